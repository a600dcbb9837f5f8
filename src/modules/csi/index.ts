import type { ServerContext } from '../../server/context.ts';
import { x } from '../../xml/element.ts';

export const NS_CSI = 'urn:xmpp:csi:0';

/**
 * XEP-0352 client state indication: <inactive/> and <active/> from the client switch its
 * session's gate (session/client-state.ts), announced as a stream feature.
 */
export function csiModule(ctx: ServerContext): void {
  ctx.hooks.on('stream-features', (features) => features.push(x('csi', { xmlns: NS_CSI })));
  ctx.hooks.onNonza(NS_CSI, (el, session) => {
    // Anything else in the namespace is ignored: it carries no state we know.
    if (el.name === 'inactive') session.clientState.setInactive(true);
    else if (el.name === 'active') session.clientState.setInactive(false);
  });
  ctx.hooks.on('session-closed', (session) => session.clientState.drop());
}
