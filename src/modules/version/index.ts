import type { ServerContext } from '../../server/context.ts';
import { NS } from '../../stanza/namespaces.ts';
import { x } from '../../xml/element.ts';

/**
 * XEP-0092 for the server itself. The operating system is not disclosed (T6). A user's
 * client version is answered by the client; the router only lets approved contacts ask it.
 */
export function versionModule(ctx: ServerContext): void {
  ctx.router.onHostIq('get', NS.version, () =>
    x('query', { xmlns: NS.version }, x('name', {}, 'Rampart'), x('version', {}, ctx.version)),
  );
}
