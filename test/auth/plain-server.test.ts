import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createPlainServer } from '../../src/auth/plain-server.ts';
import type { SaslStep } from '../../src/auth/sasl.ts';

const calls: [string, string][] = [];
const server = () =>
  createPlainServer({
    verify: async (username, password) => {
      calls.push([username, password]);
      return username === 'alice' && password === 'wonder land';
    },
  });
const msg = (authzid: string, authcid: string, password: string) =>
  Buffer.from(`${authzid}\0${authcid}\0${password}`);

function assertFailure(step: SaslStep, condition: string) {
  assert.equal(step.kind, 'failure', JSON.stringify(step));
  if (step.kind === 'failure') assert.equal(step.condition, condition, step.text);
}

describe('PLAIN server', () => {
  it('accepts the right password', async () => {
    assert.deepEqual(await server().start(msg('', 'alice', 'wonder land')), {
      kind: 'success',
      data: Buffer.alloc(0),
      username: 'alice',
    });
  });

  it('returns the authzid for the caller to check', async () => {
    const step = await server().start(msg('alice@example.com', 'alice', 'wonder land'));
    assert.equal(step.kind, 'success');
    if (step.kind === 'success') assert.equal(step.authzid, 'alice@example.com');
  });

  it('SASLpreps the user name but passes the password on as sent', async () => {
    calls.length = 0;
    const step = await server().start(msg('', 'al\u00ADice', 'wonder\u00A0land'));
    assert.deepEqual(calls, [['alice', 'wonder\u00A0land']]);
    assertFailure(step, 'not-authorized');
  });

  it('refuses a wrong password, naming the user', async () => {
    assert.deepEqual(await server().start(msg('', 'alice', 'wrong')), {
      kind: 'failure',
      condition: 'not-authorized',
      text: 'bad password',
      username: 'alice',
      credentialsRejected: true,
    });
  });

  it('asks for the credentials when there is no initial response', async () => {
    const s = server();
    assert.deepEqual(await s.start(Buffer.alloc(0)), { kind: 'challenge', data: Buffer.alloc(0) });
    assert.equal((await s.step(msg('', 'alice', 'wonder land'))).kind, 'success');
    assertFailure(await s.step(msg('', 'alice', 'wonder land')), 'malformed-request');
  });

  it('refuses malformed messages', async () => {
    for (const data of [
      Buffer.from('alice wonder land'),
      Buffer.from('\0alice'),
      msg('', '', 'pw'),
      msg('', 'alice', ''),
      Buffer.from('\0alice\0pw\0'),
      Buffer.from([0, 0x61, 0, 0xff]),
      msg('', 'a\u0007', 'pw'),
      msg('', 'alice', 'x'.repeat(5000)),
    ]) {
      assertFailure(await server().start(data), 'malformed-request');
    }
  });

  it('refuses a second start and a step before start', async () => {
    const s = server();
    assertFailure(await s.step(msg('', 'alice', 'wonder land')), 'malformed-request');
    assertFailure(await s.start(msg('', 'alice', 'wonder land')), 'malformed-request');
  });

  it('reports a failing verifier as temporary-auth-failure', async () => {
    const s = createPlainServer({
      verify: async () => {
        throw new Error('database is down');
      },
    });
    assertFailure(await s.start(msg('', 'alice', 'pw')), 'temporary-auth-failure');
  });

  it('never throws on random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 64 }),
        async (a, b) => {
          const s = server();
          const first = await s.start(Buffer.from(a));
          const second = await s.step(Buffer.from(b));
          for (const step of [first, second]) {
            assert.ok(['challenge', 'success', 'failure'].includes(step.kind));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
