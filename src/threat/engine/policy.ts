// Modes and thresholds for the engine's rules. The server will later build this from the
// config's policy section; here it is a plain object with safe defaults.

export type RuleMode = 'off' | 'monitor' | 'enforce';

export type ThreatPolicy = {
  /** Mode per rule name (inspector name or 'classifier'); missing rules use defaultMode. */
  modes: Record<string, RuleMode>;
  defaultMode: RuleMode;
  contentGuard: {
    /** Longest run of non-space characters, in bytes, before a body is refused. */
    maxWordBytes: number;
    maxZeroWidthRun: number;
    /** Combining marks per base letter above which a body is refused. */
    maxCombiningRatio: number;
    /** Share of pictographs among visible characters above which a body is defused. */
    maxEmojiRatio: number;
    minEmojiCount: number;
  };
  /** Overrides for the classifier's thresholds (defaults come from the trained model). */
  classifier?: { hold?: number; label?: number };
};

export const DEFAULT_POLICY: ThreatPolicy = {
  modes: {},
  defaultMode: 'enforce',
  contentGuard: {
    maxWordBytes: 4096,
    maxZeroWidthRun: 3,
    maxCombiningRatio: 2,
    maxEmojiRatio: 0.5,
    minEmojiCount: 40,
  },
};

export function modeOf(policy: ThreatPolicy, rule: string): RuleMode {
  return policy.modes[rule] ?? policy.defaultMode;
}
