// T4/T9: payloads only a server sends. A message archive result (XEP-0313) or a pubsub event
// (XEP-0060/0163) written by a client would let it forge history, a contact's avatar or a
// microblog entry "from" someone else, past every inspector; clients that trust such payloads
// have had exactly these bugs. They are refused, like forged carbons.

import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import type { XmlElement } from '../../xml/element.ts';

const SERVER_ONLY = [
  { name: 'result', ns: /^urn:xmpp:mam:\d$/ },
  { name: 'event', ns: /^http:\/\/jabber\.org\/protocol\/pubsub#event$/ },
];

function serverOnlyPayload(msg: XmlElement): string | undefined {
  for (const el of msg.elements()) {
    const ns = el.xmlns ?? '';
    if (SERVER_ONLY.some((p) => p.name === el.name && p.ns.test(ns))) return ns;
  }
  return undefined;
}

export function forgedPayloadFilter(ctx: ServerContext): void {
  ctx.router.outboundFilters.push((stanza, session) => {
    if (stanza.name !== 'message') return 'continue';
    const ns = serverOnlyPayload(stanza);
    if (ns === undefined) return 'continue';
    ctx.events.record({
      threat: 'T4',
      rule: 'forged.server-payload',
      actor: session.jid.full,
      target: stanza.attrs.to ?? session.bare,
      address: session.address,
      verdict: 'refuse',
      evidence: { namespace: ns },
    });
    return new StanzaError(
      'bad-request',
      'clients do not send archive results or pubsub events; the server does',
    );
  });
}
