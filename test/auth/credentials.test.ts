import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  deriveCredentials,
  deriveScramCredential,
  verifyPassword,
} from '../../src/auth/credentials.ts';

// Kept low so the suite stays fast; the production count is a config value.
const ITERATIONS = 4096;

describe('deriveScramCredential', () => {
  it('computes RFC 5802 StoredKey and ServerKey', async () => {
    const salt = Buffer.from('QSXCR+Q6sek8bf92', 'base64');
    const cred = await deriveScramCredential('pencil', 'SHA-1', 4096, salt);
    const salted = pbkdf2Sync('pencil', salt, 4096, 20, 'sha1');
    const clientKey = createHmac('sha1', salted).update('Client Key').digest();
    assert.deepEqual(cred, {
      hash: 'SHA-1',
      salt: 'QSXCR+Q6sek8bf92',
      iterations: 4096,
      storedKey: createHash('sha1').update(clientKey).digest('base64'),
      serverKey: createHmac('sha1', salted).update('Server Key').digest('base64'),
    });
  });

  it('makes a fresh 16-byte salt each time', async () => {
    const a = await deriveScramCredential('secret', 'SHA-256', ITERATIONS);
    const b = await deriveScramCredential('secret', 'SHA-256', ITERATIONS);
    assert.equal(Buffer.from(a.salt, 'base64').length, 16);
    assert.notEqual(a.salt, b.salt);
    assert.notEqual(a.storedKey, b.storedKey);
    assert.equal(Buffer.from(a.storedKey, 'base64').length, 32);
  });

  it('SASLpreps the password', async () => {
    const salt = Buffer.alloc(16, 7);
    const a = await deriveScramCredential('I\u00ADX', 'SHA-256', ITERATIONS, salt);
    const b = await deriveScramCredential('IX', 'SHA-256', ITERATIONS, salt);
    assert.equal(a.storedKey, b.storedKey);
  });

  it('refuses bad iteration counts and prohibited passwords', async () => {
    await assert.rejects(deriveScramCredential('x', 'SHA-1', 0), RangeError);
    await assert.rejects(deriveScramCredential('x', 'SHA-1', 1.5), RangeError);
    await assert.rejects(deriveScramCredential('a\u0000b', 'SHA-1', ITERATIONS), {
      name: 'SaslprepError',
    });
  });
});

describe('deriveCredentials', () => {
  it('returns SHA-256 and SHA-1 credentials', async () => {
    const creds = await deriveCredentials('secret', ITERATIONS);
    assert.deepEqual(creds.map((c) => c.hash).sort(), ['SHA-1', 'SHA-256']);
    assert.ok(creds.every((c) => c.iterations === ITERATIONS));
    assert.notEqual(creds[0]!.salt, creds[1]!.salt);
  });
});

describe('verifyPassword', () => {
  it('accepts the right password and refuses others', async () => {
    const creds = await deriveCredentials('correct horse', ITERATIONS);
    assert.equal(await verifyPassword('correct horse', creds), true);
    assert.equal(await verifyPassword('correct horse ', creds), false);
    assert.equal(await verifyPassword('', creds), false);
  });

  it('works with a SHA-1 credential alone and with equivalent spellings', async () => {
    const sha1 = await deriveScramCredential('\u2168 pass', 'SHA-1', ITERATIONS);
    assert.equal(await verifyPassword('IX\u00A0pass', [sha1]), true);
  });

  it('is false for no credential, a prohibited password or a corrupt credential', async () => {
    assert.equal(await verifyPassword('anything', []), false);
    const creds = await deriveCredentials('x', ITERATIONS);
    assert.equal(await verifyPassword('x\u0000', creds), false);
    const corrupt = creds.map((c) => ({ ...c, iterations: -1 }));
    assert.equal(await verifyPassword('x', corrupt), false);
    const short = creds.map((c) => ({ ...c, storedKey: 'AAAA' }));
    assert.equal(await verifyPassword('x', short), false);
  });
});
