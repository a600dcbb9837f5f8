// Held messages: contact requests from strangers (T1), which the recipient may accept, and
// holds for an administrator's review. Accepting, or an admin's release, delivers them in
// order with an XEP-0203 delay stamp.

import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { Jid } from '../../stanza/jid.ts';
import { NS } from '../../stanza/namespaces.ts';
import type { HeldKind, HeldMessage } from '../../storage/ports.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import { parseStoredElement } from '../../xml/parse-element.ts';
import type { ThreatPolicy } from '../engine/policy.ts';
import { serverNotice } from '../server-notice.ts';
import type { Verdict } from '../verdict.ts';
import type { Inspection } from './inspection.ts';

const MAX_TOLD = 100_000;

export type RequestSummary = { sender: string; count: number; firstHeldAt: number };

export class HoldService {
  /** "sender\0owner": senders already told that their messages wait for acceptance. */
  private readonly told = new Set<string>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly policy: () => ThreatPolicy,
  ) {}

  async hold(inspection: Inspection, v: Verdict, kept: XmlElement, kind: HeldKind): Promise<void> {
    const owner = inspection.to.bare;
    const sender = inspection.from.bare;
    const waiting = await this.ctx.storage.held.list({ owner, sender, kind });
    if (kind === 'request' && waiting.length >= this.policy().stranger.maxHeldPerSender) {
      throw new StanzaError(
        'policy-violation',
        `Your message was not delivered: ${owner} has not accepted you as a contact yet and ${waiting.length} of your messages are already waiting.`,
      );
    }
    await this.ctx.storage.held.add({
      owner,
      sender,
      kind,
      stanza: kept.toString(),
      ...(v.threat ? { threat: v.threat } : {}),
      rule: v.rule,
      reason: v.reason,
    });
    if (kind === 'request' && waiting.length === 0) this.noticeToRecipient(owner, sender, 1);
    this.tellSender(inspection, kind, v);
  }

  /** Summaries of the contact requests waiting for `owner`, oldest first. */
  async requests(owner: string): Promise<RequestSummary[]> {
    const bySender = new Map<string, RequestSummary>();
    for (const m of await this.ctx.storage.held.list({ owner, kind: 'request' })) {
      const s = bySender.get(m.sender);
      if (s) s.count += 1;
      else bySender.set(m.sender, { sender: m.sender, count: 1, firstHeldAt: m.heldAt });
    }
    return [...bySender.values()];
  }

  /** Delivers the requests `sender` left for `owner`, in order; returns how many. */
  async accept(owner: string, sender: string): Promise<number> {
    const held = await this.ctx.storage.held.list({ owner, sender, kind: 'request' });
    this.told.delete(`${sender}\0${owner}`);
    return this.release(held, 'Held as a contact request until you accepted it');
  }

  /** Deletes the requests `sender` left for `owner`; returns how many. */
  async reject(owner: string, sender: string): Promise<number> {
    const held = await this.ctx.storage.held.list({ owner, sender, kind: 'request' });
    this.told.delete(`${sender}\0${owner}`);
    return this.ctx.storage.held.remove(held.map((m) => m.id));
  }

  /** Delivers held messages (oldest first) and removes them; returns how many were delivered. */
  async release(held: readonly HeldMessage[], why: string): Promise<number> {
    let delivered = 0;
    for (const m of [...held].sort((a, b) => a.id - b.id)) {
      const el = parseStoredElement(m.stanza);
      // Removed first: a message is delivered at most once, even if delivery fails below.
      if ((await this.ctx.storage.held.remove([m.id])) === 0 || !el) continue;
      const out = el.withAttrs({ to: m.owner, xmlns: undefined });
      out.children = [
        ...el.children,
        x('delay', { xmlns: NS.delay, from: this.ctx.domain, stamp: iso(m.heldAt) }, why),
      ];
      try {
        await this.ctx.router.deliverMessage(out, Jid.parse(m.owner));
        delivered += 1;
      } catch (err) {
        this.ctx.log.info({ err, id: m.id }, 'a released message could not be delivered');
      }
    }
    return delivered;
  }

  /** A server notice (bare domain JID, T4) about a held message, with what it is about. */
  private notice(
    to: string,
    text: string,
    label: { threat: string; rule: string },
    about: Record<string, string>,
  ): XmlElement {
    const msg = serverNotice(this.ctx.domain, to, text, label);
    const el = msg.getChild('notice', NS.notice)!;
    Object.assign(el.attrs, about);
    return msg;
  }

  private noticeToRecipient(owner: string, sender: string, count: number): void {
    const text =
      `${sender} is not in your contacts and wants to talk to you; the server is keeping their message until you decide. ` +
      `To read it, add ${sender} to your contacts or reply "accept ${sender}". ` +
      `To delete it, reply "reject ${sender}". Reply "requests" to list everyone waiting.`;
    const msg = this.notice(
      owner,
      text,
      { threat: 'T1', rule: 'stranger' },
      { type: 'contact-request', jid: sender, count: String(count) },
    );
    // Best effort: an account that cannot take one more offline message misses the notice.
    try {
      this.ctx.router.deliverMessage(msg, Jid.parse(owner))?.catch(() => {});
    } catch {}
  }

  private tellSender(inspection: Inspection, kind: HeldKind, v: Verdict): void {
    const owner = inspection.to.bare;
    const key = `${inspection.from.bare}\0${owner}`;
    if (kind === 'request') {
      if (this.told.has(key)) return;
      if (this.told.size >= MAX_TOLD) this.told.clear();
      this.told.add(key);
    }
    const text =
      kind === 'request'
        ? `Your message to ${owner} is waiting: you are not in their contacts, so it will be delivered only if they accept you.`
        : `Your message to ${owner} is held for review by an administrator. ${v.reason}`;
    const type = kind === 'request' ? 'awaiting-acceptance' : 'held';
    const label = { threat: v.threat ?? 'T1', rule: v.rule };
    const msg = this.notice(inspection.from.full, text, label, { type, jid: owner });
    this.ctx.router.sendTo(inspection.from, msg);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
