import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { NS } from '../../stanza/namespaces.ts';

/**
 * RFC 3921 §3 session establishment, which RFC 6121 (appendix E) made a no-op: the feature
 * is advertised as <optional/>, but clients such as Strophe (Converse.js) still send the
 * request after binding, without a `to` (so it is the account's), and give up on anything
 * but a result.
 */
export function sessionModule(ctx: ServerContext): void {
  ctx.router.onHostIq('set', NS.session, () => undefined);
  ctx.router.onAccountIq('set', NS.session, (_iq, req) => {
    if (req.from.bare !== req.to.bare) throw new StanzaError('service-unavailable');
    return undefined;
  });
}
