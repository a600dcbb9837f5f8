import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import { parseStoredElement } from '../../xml/parse-element.ts';

export const NS_PRIVATE = 'jabber:iq:private';

/** Largest private document kept per namespace (serialized characters). */
export const MAX_PRIVATE_BYTES = 64 * 1024;

/** Namespaces a client may not store under: they would be confused with stanzas or this protocol. */
const RESERVED = new Set(['jabber:client', 'jabber:server', NS_PRIVATE]);
const MAX_NS_LENGTH = 1024;

/**
 * XEP-0049 private XML storage: one element per namespace, kept in the account's key-value
 * store and readable only by the account itself.
 */
export function privateStorageModule(ctx: ServerContext): void {
  ctx.router.onAccountIq('get', NS_PRIVATE, async (iq, req) => {
    if (req.from.bare !== req.to.bare) throw new StanzaError('forbidden');
    const wanted = onlyChild(iq);
    const raw = await ctx.storage.kv.get(req.to.bare, keyOf(wanted.attrs.xmlns!));
    const stored = raw === undefined ? undefined : parseStoredElement(raw);
    // Nothing stored: the empty element comes back as asked (XEP-0049 §3).
    return x('query', { xmlns: NS_PRIVATE }, stored ?? x(wanted.name, { xmlns: wanted.xmlns }));
  });

  ctx.router.onAccountIq('set', NS_PRIVATE, async (iq, req) => {
    if (req.from.bare !== req.to.bare) throw new StanzaError('forbidden');
    const doc = onlyChild(iq);
    const serialized = doc.toString();
    if (serialized.length > MAX_PRIVATE_BYTES)
      throw new StanzaError(
        'not-acceptable',
        `private data is limited to ${MAX_PRIVATE_BYTES} bytes`,
      );
    await ctx.storage.kv.set(req.to.bare, keyOf(doc.attrs.xmlns!), serialized);
    return undefined;
  });
}

/** The single namespaced child of <query/>; refuses what cannot be stored. */
function onlyChild(iq: XmlElement): XmlElement {
  const children = iq.elements()[0]!.elements();
  if (children.length !== 1)
    throw new StanzaError('bad-request', 'exactly one child element is expected');
  const child = children[0]!;
  const ns = child.attrs.xmlns;
  if (ns === undefined || RESERVED.has(ns) || ns.length > MAX_NS_LENGTH)
    throw new StanzaError('not-acceptable', 'this namespace cannot be stored');
  return child;
}

function keyOf(ns: string): string {
  return `private:${ns}`;
}
