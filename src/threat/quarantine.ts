// Quarantine (T2): an account caught spreading a worm or lure is stopped at once. Its
// sessions end with a plain reason and logins are refused (SASL account-disabled) until an
// administrator runs `rampart user release JID`.

import type { ServerContext } from '../server/context.ts';

export async function quarantineAccount(
  ctx: ServerContext,
  jid: string,
  /** Plain words without a final full stop; logins are refused with it. */
  reason: string,
  evidence: Record<string, unknown> = {},
  threat = 'T2',
  rule = 'quarantine',
): Promise<void> {
  const changed = await ctx.storage.accounts.setQuarantine(jid, reason);
  if (!changed) return;
  ctx.events.record({ threat, rule, actor: jid, verdict: 'quarantine', evidence });
  const text = `Your account was quarantined: ${reason}. Contact your administrator to release it.`;
  for (const s of ctx.sessions.of(jid)) s.close('policy-violation', text);
}
