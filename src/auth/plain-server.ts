/**
 * Server side of SASL PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd, UTF-8.
 * Only ever offer it over TLS. The user name is SASLprepped; the password goes to
 * verify() as sent, since verifyPassword() prepares it itself.
 */
import {
  credentialsFailure,
  decodeUtf8,
  failure,
  MAX_SASL_MESSAGE_BYTES,
  type SaslMechanismServer,
  type SaslStep,
} from './sasl.ts';
import { saslprep } from './saslprep.ts';

export interface PlainServerOptions {
  /** True when the password is right; must cost the same for unknown users (see verifyPassword). */
  verify: (username: string, password: string) => Promise<boolean>;
}

async function authenticate(opts: PlainServerOptions, data: Buffer): Promise<SaslStep> {
  if (data.length > MAX_SASL_MESSAGE_BYTES) return failure('malformed-request', 'message too long');
  const text = decodeUtf8(data);
  if (text === undefined) return failure('malformed-request', 'message is not UTF-8');
  const fields = text.split('\0');
  if (fields.length !== 3)
    return failure('malformed-request', 'expected authzid NUL authcid NUL passwd');
  const [authzid, authcid, password] = fields as [string, string, string];
  if (authcid === '' || password === '') {
    return failure('malformed-request', 'empty user name or password');
  }

  let username: string;
  try {
    username = saslprep(authcid, { allowUnassigned: true });
  } catch {
    return failure('malformed-request', 'username refused by SASLprep');
  }
  if (username === '') return failure('malformed-request', 'empty username');

  let ok: boolean;
  try {
    ok = await opts.verify(username, password);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    return failure('temporary-auth-failure', text, username);
  }
  if (!ok) return credentialsFailure('bad password', username);
  return {
    kind: 'success',
    data: Buffer.alloc(0),
    username,
    // Whether an authzid is acceptable (empty, or the user's own JID) is the caller's call.
    ...(authzid === '' ? {} : { authzid }),
  };
}

export function createPlainServer(opts: PlainServerOptions): SaslMechanismServer {
  let phase: 'initial' | 'awaiting-response' | 'done' = 'initial';
  return {
    async start(initialResponse) {
      const current = phase;
      phase = 'done';
      if (current !== 'initial') return failure('malformed-request', 'exchange already started');
      if (initialResponse.length === 0) {
        // No initial response: an empty challenge asks for the credentials (RFC 6120 §6.4.2).
        phase = 'awaiting-response';
        return { kind: 'challenge', data: Buffer.alloc(0) };
      }
      return authenticate(opts, initialResponse);
    },
    async step(response) {
      const current = phase;
      phase = 'done';
      if (current !== 'awaiting-response') return failure('malformed-request', 'no step expected');
      return authenticate(opts, response);
    },
  };
}
