// What the people affected by the flood shield read, in plain words.

/** What happened to one recipient's held messages during an episode (or several merged). */
export interface EpisodeTally {
  /** Held messages per sender. */
  bySender: Map<string, number>;
  /** Left in offline storage because the recipient went offline. */
  storedForLater: number;
  /** Beyond every bound: refused, the sender got an error. */
  refused: number;
}

export function emptyTally(): EpisodeTally {
  return { bySender: new Map(), storedForLater: 0, refused: 0 };
}

export function mergeTally(into: EpisodeTally, from: EpisodeTally): void {
  for (const [s, n] of from.bySender) into.bySender.set(s, (into.bySender.get(s) ?? 0) + n);
  into.storedForLater += from.storedForLater;
  into.refused += from.refused;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "N messages from X were held because …", for the recipient, once per episode. */
export function recipientNotice(t: EpisodeTally, budgetPerS: number): string {
  const senders = [...t.bySender].sort((a, b) => b[1] - a[1]);
  const total = senders.reduce((sum, [, n]) => sum + n, 0);
  const [first, ...others] = senders;
  let who = first ? `${plural(first[1], 'message')} from ${first[0]}` : '';
  if (others.length > 0) {
    const rest = others.reduce((sum, [, n]) => sum + n, 0);
    who += ` and ${rest} from ${plural(others.length, 'other sender')}`;
  }
  const delivered = total - t.storedForLater - t.refused;
  const outcome = [
    delivered > 0
      ? `${plural(delivered, 'message was', 'messages were')} delivered to you in order, at a steady pace`
      : '',
    t.storedForLater > 0
      ? `${plural(t.storedForLater, 'message waits', 'messages wait')} for your next sign-in`
      : '',
    t.refused > 0
      ? `${plural(t.refused, 'message', 'messages')} could not be kept and went back to the sender with an error`
      : '',
  ].filter((s) => s.length > 0);
  return (
    `Flood protection: ${who} ${total === 1 ? 'was' : 'were'} held back by the server because ` +
    `more than ${budgetPerS} messages a second were arriving for you. ${capitalise(outcome.join('; '))}. ` +
    'This keeps a flood from drowning your other conversations.'
  );
}

/** For a sender far above its usual rate, once per episode. */
export function senderNotice(allowedPerS: number): string {
  return (
    'Flood protection: you are sending messages much faster than usual ' +
    `(more than ${Math.round(allowedPerS)} a second). The server holds the extra messages and ` +
    'delivers them at that pace, in order. If you did not send them, change your password.'
  );
}

/** For a session whose reading is paused by the per-session or per-account rate limit. */
export function throttleNotice(): string {
  return (
    'Rate limit: you are sending faster than this server allows, so it reads from your ' +
    'connection more slowly for a moment. Nothing you sent is lost.'
  );
}

function capitalise(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1);
}
