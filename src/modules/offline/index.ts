import type { ServerContext } from '../../server/context.ts';
import type { Session } from '../../session/session.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { NS } from '../../stanza/namespaces.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import { parseStoredElement } from '../../xml/parse-element.ts';

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
    const stored = msg.withAttrs({ to: to.bare });
    stored.children = [
      ...msg.children,
      x(
        'delay',
        { xmlns: NS.delay, from: ctx.domain, stamp: new Date().toISOString() },
        'Offline storage',
      ),
    ];
    await ctx.storage.offline.push(to.bare, stored.toString());
  };

  ctx.hooks.on('initial-presence', (session) => {
    if (session.priority < 0) return;
    deliver(ctx, session).catch((err: unknown) =>
      ctx.log.error({ err }, 'offline delivery failed'),
    );
  });
}

async function deliver(ctx: ServerContext, session: Session): Promise<void> {
  for (;;) {
    const batch = await ctx.storage.offline.list(session.bare, 100);
    if (batch.length === 0) return;
    for (const m of batch) {
      const el = parseStoredElement(m.stanza);
      // The stream namespace is implicit on delivery, as for any routed stanza.
      if (el) session.send(el.withAttrs({ to: session.jid.full, xmlns: undefined }));
    }
    // Removed once written to the session's socket.
    await ctx.storage.offline.remove(
      session.bare,
      batch.map((m) => m.id),
    );
    if (batch.length < 100) return;
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
