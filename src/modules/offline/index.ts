import type { ServerContext } from '../../server/context.ts';
import type { Session } from '../../session/session.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { NS } from '../../stanza/namespaces.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import { parseStoredElement } from '../../xml/parse-element.ts';
import { LazyWriteAhead } from './lazy-write-ahead.ts';

/**
 * XEP-0160 offline messages: stored when the account has no available resource, delivered
 * (with an XEP-0203 delay stamp) at its next initial presence with non-negative priority.
 */
export function offlineModule(ctx: ServerContext): void {
  ctx.router.offline = async (msg, to) => {
    if (!worthStoring(msg)) return;
    const max = ctx.config.limits.max_offline_messages;
    if ((await ctx.storage.offline.count(to.bare)) >= max) {
      throw new StanzaError(
        'service-unavailable',
        'the recipient cannot receive more offline messages',
      );
    }
    await ctx.storage.offline.push(to.bare, storedForm(msg, to.bare, ctx.domain));
  };
  const ahead = new LazyWriteAhead(ctx, ctx.config.stream_management.write_ahead_after_ms);
  ctx.router.writeAhead = (msg, to, recipients) =>
    worthStoring(msg)
      ? ahead.add(to.bare, storedForm(msg, to.bare, ctx.domain), recipients.length)
      : undefined;

  const delivery = new OfflineDelivery(ctx);
  ctx.hooks.on('initial-presence', (session) => {
    if (session.priority < 0) return;
    delivery
      .deliver(session)
      .catch((err: unknown) => ctx.log.error({ err }, 'offline delivery failed'));
  });
}

/** What offline storage keeps: the message to the bare JID, stamped with when it arrived. */
function storedForm(msg: XmlElement, bare: string, domain: string): string {
  const stored = msg.withAttrs({ to: bare });
  stored.children = [
    ...msg.children,
    x(
      'delay',
      { xmlns: NS.delay, from: domain, stamp: new Date().toISOString() },
      'Offline storage',
    ),
  ];
  return stored.toString();
}

/**
 * Sends stored messages and removes each only once its delivery is confirmed: by the client's
 * XEP-0198 ack when the session has stream management, else once written to the socket (so
 * without stream management a message written just before the connection dies is lost, as
 * with any server without acks). Until then it stays stored, and is not sent twice.
 */
class OfflineDelivery {
  /** Ids sent and not yet confirmed or given back, per account. */
  private readonly inFlight = new Map<string, Set<number>>();
  /** Confirmed ids waiting to be removed together, per account. */
  private readonly confirmed = new Map<string, number[]>();

  constructor(private readonly ctx: ServerContext) {}

  async deliver(session: Session): Promise<void> {
    const owner = session.bare;
    // All of them at once: at most limits.max_offline_messages, and rows stay until confirmed.
    const stored = await this.ctx.storage.offline.list(owner);
    for (const m of stored) {
      const sending = this.sending(owner);
      if (sending.has(m.id)) continue;
      const el = parseStoredElement(m.stanza);
      if (!el) {
        this.confirm(owner, m.id);
        continue;
      }
      sending.add(m.id);
      // The stream namespace is implicit on delivery, as for any routed stanza.
      session.send(el.withAttrs({ to: session.jid.full, xmlns: undefined }), {
        delivered: () => this.confirm(owner, m.id),
        undelivered: () => this.release(owner, [m.id]),
      });
    }
  }

  private sending(owner: string): Set<number> {
    let set = this.inFlight.get(owner);
    if (!set) {
      set = new Set();
      this.inFlight.set(owner, set);
    }
    return set;
  }

  private release(owner: string, ids: number[]): void {
    const set = this.inFlight.get(owner);
    if (!set) return;
    for (const id of ids) set.delete(id);
    if (set.size === 0) this.inFlight.delete(owner);
  }

  private confirm(owner: string, id: number): void {
    const pending = this.confirmed.get(owner);
    if (pending) {
      pending.push(id);
      return;
    }
    this.confirmed.set(owner, [id]);
    // Confirmations of one write or one ack arrive together: one DELETE for all of them.
    queueMicrotask(() => {
      const ids = this.confirmed.get(owner) ?? [];
      this.confirmed.delete(owner);
      this.ctx.storage.offline
        .remove(owner, ids)
        .catch((err: unknown) => this.ctx.log.error({ err }, 'removing offline messages failed'))
        .finally(() => this.release(owner, ids));
    });
  }
}

/** Chat states and other transient payloads alone are not kept (XEP-0160 §3, XEP-0334). */
function worthStoring(msg: XmlElement): boolean {
  return msg
    .elements()
    .some(
      (c) =>
        c.name === 'body' ||
        c.name === 'subject' ||
        (c.xmlns !== NS.chatStates && c.name !== 'thread'),
    );
}
