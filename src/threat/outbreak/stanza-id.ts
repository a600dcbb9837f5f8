// XEP-0359 ids: the server's stanza-id on a delivered message (how the server finds the copy
// again) and the id the sender's client knows it by (what an XEP-0424 retraction names).

import { randomUUID } from 'node:crypto';
import { type XmlElement, x } from '../../xml/element.ts';

export const NS_SID = 'urn:xmpp:sid:0';

/**
 * The stanza-id `by` (the recipient's bare JID, whose archive the copy lands in) on `msg`,
 * added when missing. A stanza-id claiming `by` that a client wrote is removed first: only the
 * server may set them (XEP-0359 §3.1), or a sender could make clients drop other messages.
 * `msg` is changed in place; `trusted` says the message comes from this server (keep its id).
 */
export function ensureStanzaId(msg: XmlElement, by: string, trusted = false): string {
  const ours = (c: XmlElement): boolean =>
    c.name === 'stanza-id' && c.attrs.xmlns === NS_SID && c.attrs.by === by;
  if (trusted) {
    const existing = msg.elements().find(ours)?.attrs.id;
    if (existing !== undefined) return existing;
  }
  msg.children = msg.children.filter((c) => typeof c === 'string' || !ours(c));
  const id = randomUUID();
  msg.children.push(x('stanza-id', { xmlns: NS_SID, id, by }));
  return id;
}

/** The id a retraction names (XEP-0424): the sender's origin-id, else the `id` attribute. */
export function clientMessageId(msg: XmlElement): string | undefined {
  return msg.getChild('origin-id', NS_SID)?.attrs.id ?? msg.attrs.id;
}
