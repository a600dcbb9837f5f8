import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { NS } from '../../stanza/namespaces.ts';
import { x } from '../../xml/element.ts';

/** XEP-0030: what the server supports, and the account identity of local users. */
export function discoModule(ctx: ServerContext, serverFeatures: () => string[]): void {
  ctx.router.onHostIq('get', NS.discoInfo, (iq) => {
    if (iq.elements()[0]!.attrs.node !== undefined) throw new StanzaError('item-not-found');
    return x(
      'query',
      { xmlns: NS.discoInfo },
      x('identity', { category: 'server', type: 'im', name: 'Rampart' }),
      ...[...new Set(serverFeatures())].sort().map((v) => x('feature', { var: v })),
    );
  });
  ctx.router.onHostIq('get', NS.discoItems, () => x('query', { xmlns: NS.discoItems }));

  // An account's bare JID answers for the account; only the owner and approved contacts ask.
  ctx.router.onAccountIq('get', NS.discoInfo, async (_iq, req) => {
    if (!(await ctx.router.presenceAuthority(req.to.bare, req.from.bare)))
      throw new StanzaError('service-unavailable');
    return x(
      'query',
      { xmlns: NS.discoInfo },
      x('identity', { category: 'account', type: 'registered' }),
      x('feature', { var: NS.discoInfo }),
      x('feature', { var: NS.discoItems }),
    );
  });
  ctx.router.onAccountIq('get', NS.discoItems, async (_iq, req) => {
    if (!(await ctx.router.presenceAuthority(req.to.bare, req.from.bare)))
      throw new StanzaError('service-unavailable');
    return x('query', { xmlns: NS.discoItems });
  });
}
