// T9: markup a client could render or execute never reaches it. XHTML-IM (XEP-0071) is
// deprecated and has carried script and tracking-image attacks; XHTML or SVG smuggled in
// other elements is no better. Stripping keeps the plain <body/>, which every client shows.

import { NS } from '../../stanza/namespaces.ts';
import type { XmlElement } from '../../xml/element.ts';

export const NS_XHTML_IM = 'http://jabber.org/protocol/xhtml-im';
const EXECUTABLE_NAMESPACES = new Set([
  NS_XHTML_IM,
  'http://www.w3.org/1999/xhtml',
  'http://www.w3.org/2000/svg',
  'http://www.w3.org/1998/Math/MathML',
]);

const MAX_DEPTH = 32;

/** Executable markup, also wrapped in some other payload; too deep to look at counts too. */
function executable(el: XmlElement, depth = 0): boolean {
  if (depth > MAX_DEPTH) return true;
  if ((el.xmlns !== undefined && EXECUTABLE_NAMESPACES.has(el.xmlns)) || el.name === 'html')
    return true;
  return el.elements().some((c) => executable(c, depth + 1));
}

/** The namespaces (or names) of the top-level payloads that would be stripped. */
export function markupToStrip(msg: XmlElement): string[] {
  return msg
    .elements()
    .filter((el) => executable(el))
    .map((el) => el.xmlns ?? el.name);
}

/** A copy of the message without executable markup (the original is shared, not changed). */
export function stripMarkup(msg: XmlElement): XmlElement {
  const out = msg.withAttrs({});
  out.children = msg.children.filter((c) => typeof c === 'string' || !executable(c));
  return out;
}

const NS_FALLBACK = 'urn:xmpp:fallback:0';
const SERVER_LABELS: ReadonlySet<string> = new Set([NS.verdict, NS.notice]);

/** Only the server labels a message: a sender's own verdict, notice or label fallback is forged. */
function forgedLabel(el: XmlElement): boolean {
  if (el.xmlns !== undefined && SERVER_LABELS.has(el.xmlns)) return true;
  return (
    el.name === 'fallback' && el.xmlns === NS_FALLBACK && SERVER_LABELS.has(el.attrs.for ?? '')
  );
}

/** The message without labels its sender wrote itself, and how many there were. */
export function stripForgedLabels(msg: XmlElement): { msg: XmlElement; removed: number } {
  const kept = msg.children.filter((c) => typeof c === 'string' || !forgedLabel(c));
  const removed = msg.children.length - kept.length;
  if (removed === 0) return { msg, removed };
  const out = msg.withAttrs({});
  out.children = kept;
  return { msg: out, removed };
}
