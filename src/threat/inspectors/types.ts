import type { ThreatId, Verdict, VerdictAction } from '../verdict.ts';

/** The parts of a message the inspectors look at. */
export type InspectMessage = { text: string; fileName?: string };

/** What the server knows about the sender relative to this recipient. */
export type InspectContext = {
  senderIsContact: boolean;
  /** Distinct recipients of the same text from this sender within a minute (1 = normal chat). */
  fanout: number;
  senderAgeDays?: number;
  /** False when this pair wrote to each other in the last day; unknown (absent) counts as first. */
  firstInConversation?: boolean;
};

export type Inspector = {
  name: string;
  threat: ThreatId;
  inspect(msg: InspectMessage, ctx: InspectContext): Verdict | undefined;
};

/** Builds a verdict tersely; inspectors stay short. */
export function verdict(
  action: VerdictAction,
  threat: ThreatId,
  rule: string,
  reason: string,
  evidence: Record<string, unknown>,
): Verdict {
  return { action, threat, rule, reason, evidence };
}
