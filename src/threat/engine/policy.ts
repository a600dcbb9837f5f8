// Modes and thresholds for the engine's rules. The server builds this from the config's
// [policy] section (src/threat/policy-config.ts); the defaults here are the safe ones.

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
  /** Stranger policy (T1): limits on contacting people who do not have you as a contact. */
  stranger: {
    /** Distinct strangers one account may contact per hour; the next one is refused. */
    hourlyLimit: number;
    /** The same for accounts younger than newAccountDays. */
    newAccountHourlyLimit: number;
    newAccountDays: number;
    /** Refusals over the limit within the hour after which the account is quarantined. */
    quarantineAfter: number;
    /** Held messages kept per (sender, recipient) request; later ones are refused. */
    maxHeldPerSender: number;
    /** Held messages older than this are deleted. */
    retentionDays: number;
  };
  /** Put (the start of) the message text in security events. */
  eventsIncludeText: boolean;
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
  stranger: {
    hourlyLimit: 50,
    newAccountHourlyLimit: 10,
    newAccountDays: 7,
    quarantineAfter: 25,
    maxHeldPerSender: 20,
    retentionDays: 14,
  },
  eventsIncludeText: false,
};

export function modeOf(policy: ThreatPolicy, rule: string): RuleMode {
  return policy.modes[rule] ?? policy.defaultMode;
}

/** Every rule off: nothing would read a message's context, so none is built. */
export function engineOff(policy: ThreatPolicy): boolean {
  return policy.defaultMode === 'off' && Object.values(policy.modes).every((m) => m === 'off');
}
