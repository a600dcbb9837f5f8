// T1 stranger policy: a message from someone who is not the recipient's contact is held as
// a contact request instead of being delivered, and one account may approach only so many
// strangers an hour (fewer while the account is new), which stops harvest-and-spam runs.

import type { ThreatPolicy } from '../engine/policy.ts';
import type { Verdict } from '../verdict.ts';
import type { Inspection, PipelineInspector } from './inspection.ts';

const HOUR_MS = 3_600_000;

export function strangerInspector(policy: () => ThreatPolicy): PipelineInspector {
  /** sender → stranger → when first approached within the hour. */
  const approached = new Map<string, Map<string, number>>();
  /** sender → times it was refused over the limit within the hour. */
  const refused = new Map<string, number[]>();

  const limitFor = (i: Inspection): number => {
    const p = policy().stranger;
    const age = i.context.senderAgeDays;
    return age !== undefined && age < p.newAccountDays ? p.newAccountHourlyLimit : p.hourlyLimit;
  };

  const overLimit = (i: Inspection, limit: number, now: number): Verdict => {
    const times = (refused.get(i.from.bare) ?? []).filter((t) => now - t < HOUR_MS);
    times.push(now);
    if (refused.size > 100_000) refused.clear();
    refused.set(i.from.bare, times);
    const evidence = {
      limit,
      refusedThisHour: times.length,
      senderAgeDays: i.context.senderAgeDays,
    };
    if (times.length >= policy().stranger.quarantineAfter) {
      return {
        action: 'quarantine',
        threat: 'T1',
        rule: 'stranger.limit',
        reason: `This account kept writing to people who do not have it as a contact (${limit + times.length} in an hour), as spam bots do.`,
        evidence,
      };
    }
    return {
      action: 'refuse',
      threat: 'T1',
      rule: 'stranger.limit',
      reason: `You have written to ${limit} people who do not have you as a contact in the last hour, the most allowed; ask them to add you first or try again later.`,
      evidence,
    };
  };

  return {
    name: 'stranger',
    inspect(i): Verdict | undefined {
      if (i.context.senderIsContact || i.context.origin === 'room') return undefined;
      if (i.text === '') return undefined; // bodyless signals: the gate drops them
      const sender = i.from.bare;
      const now = Date.now();
      let mine = approached.get(sender);
      if (!mine) {
        if (approached.size > 100_000) approached.clear();
        mine = new Map();
        approached.set(sender, mine);
      }
      for (const [who, at] of mine) if (now - at > HOUR_MS) mine.delete(who);
      const limit = limitFor(i);
      if (!mine.has(i.to.bare) && mine.size >= limit) return overLimit(i, limit, now);
      mine.set(i.to.bare, mine.get(i.to.bare) ?? now);
      return {
        action: 'hold',
        threat: 'T1',
        rule: 'stranger',
        reason: `${sender} is not in the recipient's contacts, so the message waits as a contact request.`,
        evidence: { strangersThisHour: mine.size, limit },
      };
    },
  };
}
