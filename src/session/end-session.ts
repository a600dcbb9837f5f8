import type { ServerContext } from '../server/context.ts';
import type { Session } from './session.ts';

/** A bound session is over: it leaves the registry and modules learn of it (presence...). */
export function endSession(ctx: ServerContext, session: Session): void {
  ctx.sessions.remove(session);
  ctx.hooks.emit('session-closed', session);
}
