import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { x } from '../../xml/element.ts';
import { parseStoredElement } from '../../xml/parse-element.ts';

export const NS_VCARD = 'vcard-temp';

/** Largest vCard kept (serialized characters); avatars belong in XEP-0084, not here. */
export const MAX_VCARD_BYTES = 64 * 1024;
const KEY = 'vcard';

/**
 * XEP-0054 vcard-temp: the owner sets its vCard; the owner and approved contacts read it,
 * and everyone else only when `vcard.public` says so (T7: no profile leaks to strangers).
 */
export function vcardModule(ctx: ServerContext): void {
  ctx.router.onAccountIq('set', NS_VCARD, async (iq, req) => {
    if (req.from.bare !== req.to.bare) throw new StanzaError('forbidden');
    const vcard = iq.elements()[0]!;
    if (vcard.name !== 'vCard') throw new StanzaError('bad-request', 'the payload is <vCard/>');
    const serialized = vcard.toString();
    if (serialized.length > MAX_VCARD_BYTES)
      throw new StanzaError('not-acceptable', `a vCard is limited to ${MAX_VCARD_BYTES} bytes`);
    await ctx.storage.kv.set(req.to.bare, KEY, serialized);
    return undefined;
  });

  ctx.router.onAccountIq('get', NS_VCARD, async (_iq, req) => {
    const owner = req.to.bare;
    const allowed =
      req.from.bare === owner ||
      ctx.config.vcard.public ||
      (await ctx.router.presenceAuthority(owner, req.from.bare));
    if (!allowed) throw new StanzaError('service-unavailable');
    const raw = await ctx.storage.kv.get(owner, KEY);
    const stored = raw === undefined ? undefined : parseStoredElement(raw);
    return stored ?? x('vCard', { xmlns: NS_VCARD });
  });
}
