import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { NS } from '../../stanza/namespaces.ts';

/** XEP-0199: the server answers pings to itself and, on the account's behalf, to bare JIDs of its own user. */
export function pingModule(ctx: ServerContext): void {
  ctx.router.onHostIq('get', NS.ping, () => undefined);
  ctx.router.onAccountIq('get', NS.ping, async (_iq, req) => {
    if (!(await ctx.router.presenceAuthority(req.to.bare, req.from.bare)))
      throw new StanzaError('service-unavailable');
    return undefined;
  });
}
