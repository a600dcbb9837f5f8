import type { ServerContext } from '../../server/context.ts';
import type { Session } from '../../session/session.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { NS } from '../../stanza/namespaces.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import { XmlStreamParser } from '../../xml/stream-parser.ts';

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
      const el = parseStored(m.stanza);
      if (el) session.send(el.withAttrs({ to: session.jid.full }));
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

function parseStored(raw: string): XmlElement | undefined {
  let out: XmlElement | undefined;
  const parser = new XmlStreamParser(
    {
      maxStanzaBytes: Number.MAX_SAFE_INTEGER,
      maxDepth: 1000,
      maxAttributes: 10_000,
      maxTextBytes: Number.MAX_SAFE_INTEGER,
    },
    {
      onStreamStart: () => {},
      onStanza: (el) => {
        out = el;
      },
      onStreamEnd: () => {},
    },
  );
  parser.writeText(
    `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>${raw}`,
  );
  if (out) delete out.attrs.xmlns;
  return out;
}
