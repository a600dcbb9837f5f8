/**
 * Server side of SCRAM (RFC 5802, RFC 7677), with -PLUS channel binding (RFC 5929
 * tls-server-end-point, RFC 9266 tls-exporter). The server-final-message goes out as the
 * <success/> payload (RFC 6120 §6.3.10).
 *
 * An unknown user gets a salt and iteration count that look real (derived from the
 * server secret, so they are the same on every try) and fails exactly where a wrong
 * password fails, after the same work: user names cannot be enumerated.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramCredential, ScramHash } from '../storage/ports.ts';
import { DEFAULT_ITERATIONS, digest, HASHES, hmac, SALT_BYTES } from './credentials.ts';
import {
  credentialsFailure,
  decodeUtf8,
  failure,
  MAX_SASL_MESSAGE_BYTES,
  type SaslMechanismServer,
  type SaslStep,
} from './sasl.ts';
import { saslprep } from './saslprep.ts';
import {
  type ClientFinal,
  type ClientFirst,
  parseClientFinal,
  parseClientFirst,
  ScramSyntaxError,
} from './scram-messages.ts';

export type { SaslCondition, SaslMechanismServer, SaslStep } from './sasl.ts';

export interface ScramServerOptions {
  hash: ScramHash;
  /** This is the -PLUS mechanism. */
  plus: boolean;
  /** We advertised a -PLUS variant, so a client that says 'y' was downgraded. */
  serverOffersPlus: boolean;
  /** Data for 'tls-exporter' / 'tls-server-end-point'; undefined = unsupported type. */
  channelBinding: (type: string) => Buffer | undefined;
  /** Gets the user name after =2C/=3D unescaping and SASLprep. */
  lookup: (username: string) => Promise<ScramCredential | undefined>;
  /** Server secret, used to fake salts for unknown users. */
  secret: Buffer;
  /** Iteration count shown for unknown users; make it what real credentials use. */
  fakeIterations?: number;
  /** Test hook: the server's part of the nonce (default 24 random bytes, base64). */
  serverNonce?: () => string;
}

interface AwaitingFinal {
  first: ClientFirst;
  username: string;
  cbData: Buffer;
  serverFirst: string;
  nonce: string;
  storedKey: Buffer;
  serverKey: Buffer;
  /** False for an unknown user: the exchange runs on, and fails at the proof. */
  known: boolean;
}

type Phase =
  | { name: 'initial' }
  | { name: 'awaiting-first' }
  | ({ name: 'awaiting-final' } & AwaitingFinal)
  | { name: 'done' };

/** A credential for a user who does not exist, the same on every try for that name. */
function fakeCredential(opts: ScramServerOptions, username: string): ScramCredential {
  const seed = (label: string) =>
    hmac(opts.hash, opts.secret, `${label}\0${opts.hash}\0${username}`);
  return {
    hash: opts.hash,
    salt: seed('salt').subarray(0, SALT_BYTES).toString('base64'),
    iterations: opts.fakeIterations ?? DEFAULT_ITERATIONS,
    storedKey: seed('stored-key').toString('base64'),
    serverKey: seed('server-key').toString('base64'),
  };
}

function messageText(data: Buffer): string {
  if (data.length > MAX_SASL_MESSAGE_BYTES) throw new ScramSyntaxError('message too long');
  const text = decodeUtf8(data);
  if (text === undefined) throw new ScramSyntaxError('message is not UTF-8');
  return text;
}

export function createScramServer(opts: ScramServerOptions): SaslMechanismServer {
  const hashBytes = HASHES[opts.hash].bytes;
  let phase: Phase = { name: 'initial' };

  async function clientFirst(data: Buffer): Promise<SaslStep> {
    const first = parseClientFirst(messageText(data));

    let username: string;
    try {
      username = saslprep(first.username, { allowUnassigned: true });
    } catch {
      return failure('malformed-request', 'username refused by SASLprep');
    }
    if (username === '') return failure('malformed-request', 'empty username');

    // Channel binding rules, RFC 5802 §6.
    let cbData: Buffer = Buffer.alloc(0);
    if (first.cb.flag === 'p') {
      if (!opts.plus) {
        return failure('malformed-request', 'channel binding requested without -PLUS', username);
      }
      const data = opts.channelBinding(first.cb.type);
      if (data === undefined) {
        return failure('not-authorized', `unsupported channel binding ${first.cb.type}`, username);
      }
      cbData = data;
    } else if (opts.plus) {
      return failure('malformed-request', '-PLUS mechanism without channel binding', username);
    } else if (first.cb.flag === 'y' && opts.serverOffersPlus) {
      return failure('not-authorized', 'channel binding downgrade detected', username);
    }

    const found = await opts.lookup(username);
    const known = found !== undefined && found.hash === opts.hash;
    const cred = known ? found : fakeCredential(opts, username);

    const nonce = first.clientNonce + (opts.serverNonce?.() ?? randomBytes(24).toString('base64'));
    const serverFirst = `r=${nonce},s=${cred.salt},i=${cred.iterations}`;
    phase = {
      name: 'awaiting-final',
      first,
      username,
      cbData,
      serverFirst,
      nonce,
      storedKey: Buffer.from(cred.storedKey, 'base64'),
      serverKey: Buffer.from(cred.serverKey, 'base64'),
      known,
    };
    return { kind: 'challenge', data: Buffer.from(serverFirst) };
  }

  function clientFinal(state: AwaitingFinal, data: Buffer): SaslStep {
    const { username } = state;
    let final: ClientFinal;
    try {
      final = parseClientFinal(messageText(data));
    } catch (err) {
      if (err instanceof ScramSyntaxError) return failure(err.condition, err.message, username);
      throw err;
    }

    const expectedCb = Buffer.concat([Buffer.from(state.first.gs2Header), state.cbData]);
    if (!final.channelBinding.equals(expectedCb)) {
      return failure('not-authorized', 'channel binding mismatch', username);
    }
    if (final.nonce !== state.nonce) return failure('not-authorized', 'nonce mismatch', username);
    if (final.proof.length !== hashBytes) {
      return failure('malformed-request', 'proof has the wrong length', username);
    }

    const authMessage = `${state.first.bare},${state.serverFirst},${final.withoutProof}`;
    const clientSignature = hmac(opts.hash, state.storedKey, authMessage);
    const clientKey = Buffer.alloc(hashBytes);
    for (let i = 0; i < hashBytes; i++) clientKey[i] = final.proof[i]! ^ clientSignature[i]!;
    const candidate = digest(opts.hash, clientKey);
    // A corrupt stored key (wrong length) must fail, not throw from timingSafeEqual.
    const proofOk =
      candidate.length === state.storedKey.length && timingSafeEqual(candidate, state.storedKey);
    if (!proofOk || !state.known) return credentialsFailure('bad proof', username);

    const serverSignature = hmac(opts.hash, state.serverKey, authMessage);
    return {
      kind: 'success',
      data: Buffer.from(`v=${serverSignature.toString('base64')}`),
      username,
      ...(state.first.authzid === undefined ? {} : { authzid: state.first.authzid }),
    };
  }

  /** Runs one step; whatever goes wrong becomes a failure and ends the exchange. */
  async function guarded(run: () => SaslStep | Promise<SaslStep>): Promise<SaslStep> {
    try {
      const result = await run();
      if (result.kind !== 'challenge') phase = { name: 'done' };
      return result;
    } catch (err) {
      phase = { name: 'done' };
      if (err instanceof ScramSyntaxError) return failure(err.condition, err.message);
      return failure('temporary-auth-failure', err instanceof Error ? err.message : String(err));
    }
  }

  return {
    start(initialResponse) {
      const current = phase;
      // The phase moves on before any await, so an overlapping call cannot reuse it.
      phase = { name: 'done' };
      return guarded(() => {
        if (current.name !== 'initial')
          return failure('malformed-request', 'exchange already started');
        if (initialResponse.length === 0) {
          phase = { name: 'awaiting-first' };
          return { kind: 'challenge', data: Buffer.alloc(0) };
        }
        return clientFirst(initialResponse);
      });
    },
    step(response) {
      const current = phase;
      phase = { name: 'done' };
      return guarded(() => {
        if (current.name === 'awaiting-first') return clientFirst(response);
        if (current.name === 'awaiting-final') return clientFinal(current, response);
        return failure('malformed-request', 'no step expected');
      });
    },
  };
}
