// Builds the context of one (sender, recipient) pair from what the server knows: the
// recipient's roster and the admin's shared groups, the sender's account age, how many
// people got the same text, and whether this pair has talked before.

import type { RosterService } from '../../modules/roster/roster-service.ts';
import type { Jid } from '../../stanza/jid.ts';
import type { Storage } from '../../storage/ports.ts';
import { FanoutCounter, type FanoutSource } from './fanout.ts';
import type { MessageContext, MessageOrigin } from './inspection.ts';

const DAY_MS = 86_400_000;
const MAX_REMEMBERED = 100_000;

/** Admin-defined groups whose members are each other's contacts: JIDs or whole domains. */
export type SharedGroups = Record<string, readonly string[]>;

/** Are `a` and `b` in one shared group (as themselves or through their domain)? */
export function shareGroup(groups: SharedGroups, a: string, b: string): boolean {
  const member = (list: readonly string[], jid: string): boolean =>
    list.includes(jid) || list.includes(jid.slice(jid.indexOf('@') + 1));
  return Object.values(groups).some((list) => member(list, a) && member(list, b));
}

export class ContextBuilder {
  /** The outbreak detector plugs in its own count (links, files, near-duplicate text). */
  fanout: FanoutSource = new FanoutCounter();
  /** "a\0b" (sorted pair) → last message time: first-in-conversation detection. */
  private readonly conversations = new Map<string, number>();
  /** "a\0b" → when a last wrote to b: whoever a wrote to may answer a. */
  private readonly wroteTo = new Map<string, number>();
  private readonly createdAt = new Map<string, number>();
  sharedGroups: SharedGroups = {};

  constructor(
    private readonly storage: Storage,
    private readonly rosters: RosterService,
  ) {}

  /**
   * The sender is a contact of the recipient when the recipient has the sender in its roster
   * (any subscription state, including a request the recipient sent), both are in one of the
   * admin's shared groups, or the recipient wrote to the sender in the last 30 days (an answer
   * is never a stranger's message). Who the sender has in its own roster does not count.
   */
  async isContact(sender: string, recipient: string, now = Date.now()): Promise<boolean> {
    if (sender === recipient) return true;
    if (shareGroup(this.sharedGroups, sender, recipient)) return true;
    const wrote = this.wroteTo.get(`${recipient}\0${sender}`);
    if (wrote !== undefined && now - wrote < 30 * DAY_MS) return true;
    return (await this.rosters.item(recipient, sender)) !== undefined;
  }

  async build(
    from: Jid,
    to: Jid,
    text: string,
    origin: MessageOrigin,
    now = Date.now(),
  ): Promise<MessageContext> {
    const senderIsContact = await this.isContact(from.bare, to.bare, now);
    remember(this.wroteTo, `${from.bare}\0${to.bare}`, now);
    const ctx: MessageContext = {
      senderIsContact,
      fanout: this.fanout.note(from.bare, text, to.bare, now),
      firstInConversation: this.touchConversation(from.bare, to.bare, now),
      origin,
    };
    const created = await this.accountCreatedAt(from.bare);
    if (created !== undefined) ctx.senderAgeDays = Math.max(0, (now - created) / DAY_MS);
    return ctx;
  }

  private touchConversation(a: string, b: string, now: number): boolean {
    const last = remember(this.conversations, a < b ? `${a}\0${b}` : `${b}\0${a}`, now);
    return last === undefined || now - last > DAY_MS;
  }

  private async accountCreatedAt(jid: string): Promise<number | undefined> {
    const known = this.createdAt.get(jid);
    if (known !== undefined) return known;
    const account = await this.storage.accounts.get(jid);
    if (!account) return undefined;
    if (this.createdAt.size >= MAX_REMEMBERED) this.createdAt.clear();
    this.createdAt.set(jid, account.createdAt);
    return account.createdAt;
  }
}

/** Sets key → time as the newest entry, forgetting the least recent one when full. */
function remember(map: Map<string, number>, key: string, now: number): number | undefined {
  const last = map.get(key);
  map.delete(key);
  if (map.size >= MAX_REMEMBERED) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, now);
  return last;
}
