import type { ServerContext } from '../../server/context.ts';
import { Jid } from '../../stanza/jid.ts';
import { NS } from '../../stanza/namespaces.ts';
import type { XmlElement } from '../../xml/element.ts';
import { parseStoredElement } from '../../xml/parse-element.ts';
import { serverNotice } from '../server-notice.ts';
import { type FloodLimits, FloodShield } from './flood-shield.ts';
import { SenderGate, type SenderGateLimits } from './sender-gate.ts';

export function floodLimits(config: ServerContext['config']): FloodLimits & SenderGateLimits {
  const f = config.flood;
  return {
    mode: f.mode,
    recipientPerS: f.recipient_messages_per_s,
    recipientBurst: f.recipient_burst,
    sender: {
      floorPerS: f.sender_messages_per_s,
      burst: f.sender_burst,
      factor: f.sender_normal_factor,
    },
    maxHeldPerRecipient: f.max_held_per_recipient,
    maxHeldPerSender: f.max_held_per_sender,
    maxHeldTotal: f.max_held_total,
    noticeIntervalMs: f.notice_interval_s * 1000,
  };
}

/**
 * Puts the flood shield (T5) on the router: the sender side before routing and inspection
 * (a sender far above its usual rate waits there), the recipient side on the delivery path
 * after the inbound checks (what it holds it later delivers past it, or stores offline).
 */
export function floodModule(ctx: ServerContext): { close(): Promise<void> } {
  const router = ctx.router;
  const limits = floodLimits(ctx.config);
  const notify = (bare: string, text: string, rule: string) => {
    const notice = serverNotice(ctx.domain, bare, text, { threat: 'T5', rule });
    // Every session of the account hears it, available or not; with none, it waits offline.
    if (ctx.sessions.count(bare) > 0) return router.sendTo(Jid.parse(bare), notice);
    Promise.resolve(router.deliverAdmitted(notice, Jid.parse(bare))).catch((err: unknown) =>
      ctx.log.warn({ err, to: bare }, 'could not deliver a flood notice'),
    );
  };
  const senders = new SenderGate(limits, {
    route: (msg, session) => router.routeChecked(msg, session),
    bounce: (msg, err) => router.bounce(msg, err),
    notify,
    record: (event) => ctx.events.record(event),
  });
  router.senderGate = (stanza, session) =>
    stanza.name === 'message' && senders.offer(stanza, session);
  const shield = new FloodShield(limits, {
    deliver: (msg, to) => router.deliverAdmitted(msg, to),
    bounce: (msg, err) => router.bounce(msg, err),
    store: async (msg, to) => {
      if (!router.offline) throw new Error('offline storage is not set up');
      await router.offline(withoutOurDelay(msg, ctx.domain), Jid.parse(to));
    },
    loadStored: async (to, limit) => {
      const rows = await ctx.storage.offline.list(to, limit);
      return rows.flatMap((row) => {
        const el = parseStoredElement(row.stanza);
        // The stream namespace is implicit on delivery, as for any routed stanza.
        return el ? [{ id: row.id, msg: el.withAttrs({ xmlns: undefined }) }] : [];
      });
    },
    removeStored: (to, ids) => ctx.storage.offline.remove(to, ids),
    isOnline: (bare) => ctx.sessions.available(bare).some((s) => s.priority >= 0),
    notify,
    record: (event) => ctx.events.record(event),
    logError: (err, what) => ctx.log.error({ err }, what),
  });
  router.deliveryGate = (msg, to) => {
    if (msg.attrs.type === 'error' || msg.attrs.type === 'groupchat') return false;
    const from = Jid.tryParse(msg.attrs.from);
    // Only account-to-account traffic: the server's own notices and self-messages pass.
    if (!from?.local || from.bare === to.bare) return false;
    return shield.admit(msg, from.bare, to);
  };
  return {
    close: async () => {
      const returned = senders.close();
      if (returned > 0)
        ctx.log.warn({ returned }, 'flood shield: held messages returned to senders');
      await shield.close();
    },
  };
}

/** A message read back from storage carries our delay stamp; it gets one fresh one. */
function withoutOurDelay(msg: XmlElement, domain: string): XmlElement {
  const ours = (c: XmlElement) =>
    c.name === 'delay' && c.xmlns === NS.delay && c.attrs.from === domain;
  if (!msg.elements().some(ours)) return msg;
  const copy = msg.withAttrs({});
  copy.children = msg.children.filter((c) => typeof c === 'string' || !ours(c));
  return copy;
}
