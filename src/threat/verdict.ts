// A verdict is what one inspector (or the whole engine) decides about one message.
// Actions are ordered by severity; combining verdicts keeps the most severe action and
// every reason, so a user and an admin can see all that was found.

export type VerdictAction = 'allow' | 'label' | 'hold' | 'refuse' | 'quarantine';
export type ThreatId = 'T1' | 'T2' | 'T3' | 'T5' | 'T6' | 'T9';

export type Verdict = {
  action: VerdictAction;
  threat?: ThreatId;
  rule: string;
  /** Plain words a user can read. */
  reason: string;
  evidence: Record<string, unknown>;
  score?: number;
};

const SEVERITY: Record<VerdictAction, number> = {
  allow: 0,
  label: 1,
  hold: 2,
  refuse: 3,
  quarantine: 4,
};

export function severity(action: VerdictAction): number {
  return SEVERITY[action];
}

export function isStopped(action: VerdictAction): boolean {
  return action === 'hold' || action === 'refuse' || action === 'quarantine';
}

export const ALLOW: Verdict = { action: 'allow', rule: 'none', reason: '', evidence: {} };

/**
 * Most severe action wins (the first such verdict gives threat, rule and score); reasons of
 * every non-allow verdict are kept, most severe first, and evidence is grouped by rule.
 */
export function combineVerdicts(verdicts: readonly Verdict[]): Verdict {
  const acting = verdicts.filter((v) => v.action !== 'allow');
  if (acting.length === 0) return { ...ALLOW, evidence: {} };
  const ordered = [...acting].sort((a, b) => severity(b.action) - severity(a.action));
  const top = ordered[0]!;
  const evidence: Record<string, unknown> = {};
  for (const v of ordered) evidence[v.rule] = v.evidence;
  const reasons = [...new Set(ordered.map((v) => v.reason).filter((r) => r.length > 0))];
  const out: Verdict = {
    action: top.action,
    rule: top.rule,
    reason: reasons.join(' '),
    evidence: { ...evidence, rules: ordered.map((v) => v.rule) },
  };
  if (top.threat !== undefined) out.threat = top.threat;
  if (top.score !== undefined) out.score = top.score;
  return out;
}
