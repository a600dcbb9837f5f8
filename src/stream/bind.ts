import { randomBytes } from 'node:crypto';
import type { ServerContext } from '../server/context.ts';
import { StanzaError } from '../stanza/errors.ts';
import { Jid, JidError } from '../stanza/jid.ts';

/**
 * Chooses the full JID for a bind request (RFC 6120 §7): the client's resource when it is
 * valid, a server-generated one when it asked for none.
 */
export function bindResource(
  ctx: ServerContext,
  account: string,
  requested: string | undefined,
): Jid | StanzaError {
  const bare = Jid.parse(account);
  const resource = requested?.trim() ? requested : `rampart-${randomBytes(6).toString('hex')}`;
  let full: Jid;
  try {
    full = bare.withResource(resource);
  } catch (err) {
    if (err instanceof JidError)
      return new StanzaError('bad-request', `invalid resource: ${err.message}`);
    throw err;
  }
  const existing = ctx.sessions.count(bare.bare);
  const replacing = ctx.sessions.get(full) !== undefined;
  if (!replacing && existing >= ctx.config.limits.max_resources_per_account) {
    return new StanzaError(
      'resource-constraint',
      `at most ${ctx.config.limits.max_resources_per_account} connections per account`,
    );
  }
  return full;
}
