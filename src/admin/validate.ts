import type { Config } from '../config/schema.ts';
import { Jid } from '../stanza/jid.ts';
import { AdminError } from './errors.ts';

/** Prepares a JID naming an account on this server: bare, with a localpart, on our domain. */
export function prepareAccountJid(input: string, domain: string): string {
  let jid: Jid;
  try {
    jid = Jid.parse(input);
  } catch (err) {
    throw new AdminError('invalid', `invalid JID "${input}": ${(err as Error).message}`);
  }
  if (!jid.isBare) throw new AdminError('invalid', `JID "${input}" must be bare (no /resource)`);
  if (jid.local === '') {
    throw new AdminError('invalid', `JID "${input}" has no localpart (expected user@${domain})`);
  }
  if (jid.domain !== domain) {
    throw new AdminError(
      'invalid',
      `unknown domain "${jid.domain}" (this server serves "${domain}")`,
    );
  }
  return jid.bare;
}

/** Refuses passwords outside the configured policy; lengths count characters, not bytes. */
export function checkPasswordPolicy(
  password: string,
  jid: string,
  policy: Config['password_policy'],
): void {
  const length = [...password].length;
  if (length < policy.min_length) {
    throw new AdminError(
      'policy',
      `password fails policy: at least ${policy.min_length} characters`,
    );
  }
  if (length > policy.max_length) {
    throw new AdminError(
      'policy',
      `password fails policy: at most ${policy.max_length} characters`,
    );
  }
  const local = jid.slice(0, jid.indexOf('@'));
  if (password.normalize('NFKC').toLowerCase() === local) {
    throw new AdminError('policy', 'password fails policy: must not be the same as the username');
  }
}
