/**
 * SCRAM credentials (RFC 5802 §3): what the server stores instead of a password.
 * PBKDF2 runs through the async crypto API so it occupies libuv's thread pool, not the
 * event loop; everything else is a few HMACs.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { ScramCredential, ScramHash } from '../storage/ports.ts';
import { saslprep } from './saslprep.ts';

const pbkdf2Async = promisify(pbkdf2);

/** Used when the stored credentials give no count (dummy work for unknown users). */
export const DEFAULT_ITERATIONS = 10_000;
export const SALT_BYTES = 16;

/** Node's digest names and output sizes for the SCRAM hash names. */
export const HASHES: Record<ScramHash, { digest: 'sha1' | 'sha256'; bytes: number }> = {
  'SHA-1': { digest: 'sha1', bytes: 20 },
  'SHA-256': { digest: 'sha256', bytes: 32 },
};

export function hmac(hash: ScramHash, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(HASHES[hash].digest, key).update(data).digest();
}

export function digest(hash: ScramHash, data: Buffer): Buffer {
  return createHash(HASHES[hash].digest).update(data).digest();
}

/** RFC 5802's Hi(): PBKDF2 with one output block. */
export async function saltedPassword(
  password: string,
  hash: ScramHash,
  salt: Buffer,
  iterations: number,
): Promise<Buffer> {
  if (!Number.isSafeInteger(iterations) || iterations < 1) {
    throw new RangeError(`bad iteration count ${iterations}`);
  }
  // Passwords are prepared as queries: clients do the same, and refusing a character
  // that Unicode assigned after 3.2 (an emoji, say) would only lock the user out.
  const prepared = saslprep(password, { allowUnassigned: true });
  return pbkdf2Async(prepared, salt, iterations, HASHES[hash].bytes, HASHES[hash].digest);
}

export async function deriveScramCredential(
  password: string,
  hash: ScramHash,
  iterations: number,
  salt: Buffer = randomBytes(SALT_BYTES),
): Promise<ScramCredential> {
  if (salt.length === 0) throw new RangeError('empty salt');
  const salted = await saltedPassword(password, hash, salt, iterations);
  const clientKey = hmac(hash, salted, 'Client Key');
  return {
    hash,
    salt: salt.toString('base64'),
    iterations,
    storedKey: digest(hash, clientKey).toString('base64'),
    serverKey: hmac(hash, salted, 'Server Key').toString('base64'),
  };
}

/** SHA-256 and SHA-1 credentials with independent salts, derived side by side. */
export function deriveCredentials(
  password: string,
  iterations: number,
): Promise<ScramCredential[]> {
  return Promise.all([
    deriveScramCredential(password, 'SHA-256', iterations),
    deriveScramCredential(password, 'SHA-1', iterations),
  ]);
}

/**
 * Checks a clear-text password (SASL PLAIN) against stored SCRAM credentials. One
 * credential is enough (SHA-256 preferred). With no credential at all (unknown user) it
 * still runs PBKDF2 with `dummyIterations`, so that it costs as much as a wrong password.
 */
export async function verifyPassword(
  password: string,
  creds: ScramCredential[],
  dummyIterations = DEFAULT_ITERATIONS,
): Promise<boolean> {
  const cred = creds.find((c) => c.hash === 'SHA-256') ?? creds[0];
  try {
    if (!cred) {
      await saltedPassword(password, 'SHA-256', randomBytes(SALT_BYTES), dummyIterations);
      return false;
    }
    const derived = await deriveScramCredential(
      password,
      cred.hash,
      cred.iterations,
      Buffer.from(cred.salt, 'base64'),
    );
    const expected = Buffer.from(cred.storedKey, 'base64');
    const actual = Buffer.from(derived.storedKey, 'base64');
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  } catch {
    // A password SASLprep refuses, or a corrupt stored credential, matches nothing.
    return false;
  }
}
