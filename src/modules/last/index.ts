import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { NS } from '../../stanza/namespaces.ts';
import { x } from '../../xml/element.ts';
import { LAST_ACTIVITY_KEY } from '../presence/index.ts';

/**
 * XEP-0012 last activity: the server's uptime, and an account's time since logout, which
 * only the owner and approved contacts may learn (T6, T7).
 */
export function lastActivityModule(ctx: ServerContext): void {
  ctx.router.onHostIq('get', NS.last, () =>
    x('query', {
      xmlns: NS.last,
      seconds: String(Math.floor((Date.now() - ctx.startedAt) / 1000)),
    }),
  );
  ctx.router.onAccountIq('get', NS.last, async (_iq, req) => {
    if (!(await ctx.router.presenceAuthority(req.to.bare, req.from.bare)))
      throw new StanzaError('forbidden');
    if (ctx.sessions.available(req.to.bare).length > 0)
      return x('query', { xmlns: NS.last, seconds: '0' });
    const raw = await ctx.storage.kv.get(req.to.bare, LAST_ACTIVITY_KEY);
    if (!raw) throw new StanzaError('service-unavailable');
    const last = JSON.parse(raw) as { time: number; status: string };
    return x(
      'query',
      { xmlns: NS.last, seconds: String(Math.max(0, Math.floor((Date.now() - last.time) / 1000))) },
      last.status || undefined,
    );
  });
}
