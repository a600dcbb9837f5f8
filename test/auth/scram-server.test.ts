import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { deriveScramCredential } from '../../src/auth/credentials.ts';
import {
  createScramServer,
  type SaslStep,
  type ScramServerOptions,
} from '../../src/auth/scram-server.ts';
import type { ScramCredential, ScramHash } from '../../src/storage/ports.ts';

const ITERATIONS = 4096;
const EXPORTER = Buffer.from('exporter-keying-material-32-byte');
const END_POINT = Buffer.from('certificate-hash');

// ---- a small SCRAM client, for the tests only ----

interface ClientOptions {
  hash: ScramHash;
  username: string;
  password: string;
  /** 'n', 'y' or a channel binding type with its data */
  cb?: 'n' | 'y' | { type: string; data: Buffer };
  authzid?: string;
  nonce?: string;
}

const algo = (hash: ScramHash) => (hash === 'SHA-1' ? 'sha1' : 'sha256');
const escapeName = (s: string) => s.replaceAll('=', '=3D').replaceAll(',', '=2C');

function scramClient(o: ClientOptions) {
  const cb = o.cb ?? 'n';
  const flag = typeof cb === 'string' ? cb : `p=${cb.type}`;
  const gs2Header = `${flag},${o.authzid === undefined ? '' : `a=${escapeName(o.authzid)}`},`;
  const clientNonce = o.nonce ?? randomBytes(18).toString('base64');
  const bare = `n=${escapeName(o.username)},r=${clientNonce}`;
  let serverSignature = '';
  return {
    first: () => Buffer.from(gs2Header + bare),
    final(serverFirst: Buffer, tamper: { nonce?: string; cbData?: Buffer } = {}): Buffer {
      const text = serverFirst.toString();
      const attrs = new Map(text.split(',').map((p) => [p[0], p.slice(2)] as const));
      const nonce = tamper.nonce ?? attrs.get('r')!;
      const salt = Buffer.from(attrs.get('s')!, 'base64');
      const iterations = Number(attrs.get('i'));
      const cbData = tamper.cbData ?? (typeof cb === 'string' ? Buffer.alloc(0) : cb.data);
      const c = Buffer.concat([Buffer.from(gs2Header), cbData]).toString('base64');
      const withoutProof = `c=${c},r=${nonce}`;
      const authMessage = `${bare},${text},${withoutProof}`;
      const a = algo(o.hash);
      const salted = pbkdf2Sync(
        o.password.normalize('NFKC'),
        salt,
        iterations,
        a === 'sha1' ? 20 : 32,
        a,
      );
      const clientKey = createHmac(a, salted).update('Client Key').digest();
      const storedKey = createHash(a).update(clientKey).digest();
      const signature = createHmac(a, storedKey).update(authMessage).digest();
      const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
      const serverKey = createHmac(a, salted).update('Server Key').digest();
      serverSignature = createHmac(a, serverKey).update(authMessage).digest('base64');
      return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
    },
    serverFinalOk: (data: Buffer) => data.toString() === `v=${serverSignature}`,
  };
}

// ---- server fixtures ----

const users = new Map<string, { password: string; creds: Map<ScramHash, ScramCredential> }>();
async function addUser(username: string, password: string) {
  const creds = new Map<ScramHash, ScramCredential>();
  for (const hash of ['SHA-1', 'SHA-256'] as const) {
    creds.set(hash, await deriveScramCredential(password, hash, ITERATIONS));
  }
  users.set(username, { password, creds });
}

function server(hash: ScramHash, extra: Partial<ScramServerOptions> = {}) {
  return createScramServer({
    hash,
    plus: false,
    serverOffersPlus: true,
    channelBinding: (type) =>
      type === 'tls-exporter' ? EXPORTER : type === 'tls-server-end-point' ? END_POINT : undefined,
    lookup: async (username) => users.get(username)?.creds.get(hash),
    secret: Buffer.from('server secret'),
    fakeIterations: ITERATIONS,
    ...extra,
  });
}

/** Runs a whole exchange; returns the challenge and the final step. */
async function exchange(
  serverOpts: Partial<ScramServerOptions> & { hash: ScramHash },
  clientOpts: ClientOptions,
  tamper: Parameters<ReturnType<typeof scramClient>['final']>[1] = {},
) {
  const s = server(serverOpts.hash, serverOpts);
  const client = scramClient(clientOpts);
  const challenge = await s.start(client.first());
  assert.equal(challenge.kind, 'challenge', JSON.stringify(challenge));
  if (challenge.kind !== 'challenge') throw new Error('unreachable');
  const result = await s.step(client.final(challenge.data, tamper));
  return { challenge: challenge.data.toString(), result, client, server: s };
}

function assertFailure(step: SaslStep, condition: string) {
  assert.equal(step.kind, 'failure', JSON.stringify(step));
  if (step.kind === 'failure') assert.equal(step.condition, condition, step.text);
}

await addUser('user', 'pencil');
await addUser('we,ird=name', 'p\u00E4ss w\u00F6rd');

describe('SCRAM server: RFC test vectors', () => {
  const vectors = [
    {
      hash: 'SHA-1' as const,
      salt: 'QSXCR+Q6sek8bf92',
      clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
      serverNonce: '3rfcNHYJY1ZVvWVs7j',
      clientFinal:
        'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
      serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
    },
    {
      hash: 'SHA-256' as const,
      salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
      clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
      serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
      clientFinal:
        'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
      serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
    },
  ];
  for (const v of vectors) {
    it(`SCRAM-${v.hash} (RFC ${v.hash === 'SHA-1' ? '5802' : '7677'})`, async () => {
      const cred = await deriveScramCredential(
        'pencil',
        v.hash,
        4096,
        Buffer.from(v.salt, 'base64'),
      );
      const s = server(v.hash, { lookup: async () => cred, serverNonce: () => v.serverNonce });
      const first = await s.start(Buffer.from(v.clientFirst));
      const nonce = v.clientFirst.split('r=')[1]! + v.serverNonce;
      assert.deepEqual(first, {
        kind: 'challenge',
        data: Buffer.from(`r=${nonce},s=${v.salt},i=4096`),
      });
      const final = await s.step(Buffer.from(v.clientFinal));
      assert.deepEqual(final, {
        kind: 'success',
        data: Buffer.from(v.serverFinal),
        username: 'user',
      });
    });
  }
});

describe('SCRAM server: exchanges', () => {
  for (const hash of ['SHA-1', 'SHA-256'] as const) {
    it(`SCRAM-${hash} authenticates and proves itself to the client`, async () => {
      const { result, client, challenge } = await exchange(
        { hash },
        { hash, username: 'user', password: 'pencil' },
      );
      assert.equal(result.kind, 'success');
      if (result.kind !== 'success') return;
      assert.equal(result.username, 'user');
      assert.equal(result.authzid, undefined);
      assert.ok(client.serverFinalOk(result.data));
      // Server nonce: 24 random bytes in base64 after the client's part.
      assert.match(challenge, /^r=[^,]+,s=[A-Za-z0-9+/=]+,i=4096$/);
    });

    for (const [type, data] of [
      ['tls-exporter', EXPORTER],
      ['tls-server-end-point', END_POINT],
    ] as const) {
      it(`SCRAM-${hash}-PLUS with ${type}`, async () => {
        const { result, client } = await exchange(
          { hash, plus: true },
          { hash, username: 'user', password: 'pencil', cb: { type, data } },
        );
        assert.equal(result.kind, 'success');
        if (result.kind === 'success') assert.ok(client.serverFinalOk(result.data));
      });

      it(`SCRAM-${hash}-PLUS refuses mismatched ${type} data`, async () => {
        const { result } = await exchange(
          { hash, plus: true },
          { hash, username: 'user', password: 'pencil', cb: { type, data: Buffer.from('mitm') } },
        );
        assertFailure(result, 'not-authorized');
      });
    }
  }

  it('unescapes and SASLpreps the username, and returns the authzid', async () => {
    const { result } = await exchange(
      { hash: 'SHA-256' },
      {
        hash: 'SHA-256',
        username: 'we,ird=name\u00AD',
        password: 'p\u00E4ss w\u00F6rd',
        authzid: 'we,ird=name@example.com',
      },
    );
    assert.equal(result.kind, 'success');
    if (result.kind !== 'success') return;
    assert.equal(result.username, 'we,ird=name');
    assert.equal(result.authzid, 'we,ird=name@example.com');
  });

  it('accepts an empty initial response, answered by an empty challenge', async () => {
    const s = server('SHA-1');
    const client = scramClient({ hash: 'SHA-1', username: 'user', password: 'pencil' });
    assert.deepEqual(await s.start(Buffer.alloc(0)), { kind: 'challenge', data: Buffer.alloc(0) });
    const challenge = await s.step(client.first());
    assert.equal(challenge.kind, 'challenge');
    if (challenge.kind !== 'challenge') return;
    const result = await s.step(client.final(challenge.data));
    assert.equal(result.kind, 'success');
  });

  it('accepts "y" when no -PLUS variant is offered', async () => {
    const { result } = await exchange(
      { hash: 'SHA-256', serverOffersPlus: false },
      { hash: 'SHA-256', username: 'user', password: 'pencil', cb: 'y' },
    );
    assert.equal(result.kind, 'success');
  });
});

describe('SCRAM server: refusals', () => {
  it('refuses a wrong password at the final step, naming the user', async () => {
    const { result } = await exchange(
      { hash: 'SHA-256' },
      { hash: 'SHA-256', username: 'user', password: 'pencil2' },
    );
    assert.deepEqual(result, {
      kind: 'failure',
      condition: 'not-authorized',
      text: 'bad proof',
      username: 'user',
      credentialsRejected: true,
    });
  });

  it('treats an unknown user exactly like a wrong password', async () => {
    const wrong = await exchange(
      { hash: 'SHA-256' },
      { hash: 'SHA-256', username: 'user', password: 'nope' },
    );
    const unknown = await exchange(
      { hash: 'SHA-256' },
      { hash: 'SHA-256', username: 'nobody', password: 'nope' },
    );
    const again = await exchange(
      { hash: 'SHA-256' },
      { hash: 'SHA-256', username: 'nobody', password: 'other' },
    );
    const shape = (c: string) =>
      c.replace(/r=[^,]+/, 'r=').replace(/s=[^,]+/, (s) => `s=${s.length}`);
    assert.equal(shape(unknown.challenge), shape(wrong.challenge));
    // The fake salt is stable per name, so two tries cannot tell it from a real one.
    assert.equal(unknown.challenge.split(',')[1], again.challenge.split(',')[1]);
    assert.deepEqual(unknown.result, { ...wrong.result, username: 'nobody' });
  });

  it('treats a credential for another hash as unknown', async () => {
    const sha1 = users.get('user')!.creds.get('SHA-1')!;
    const { result, challenge } = await exchange(
      { hash: 'SHA-256', lookup: async () => sha1 },
      { hash: 'SHA-256', username: 'user', password: 'pencil' },
    );
    assert.ok(!challenge.includes(sha1.salt));
    assertFailure(result, 'not-authorized');
  });

  it('detects a downgrade ("y" while -PLUS is offered)', async () => {
    const s = server('SHA-256', { serverOffersPlus: true });
    const client = scramClient({ hash: 'SHA-256', username: 'user', password: 'pencil', cb: 'y' });
    const result = await s.start(client.first());
    assertFailure(result, 'not-authorized');
    // Not a password check: it must not count towards brute-force penalties.
    assert.equal('credentialsRejected' in result, false);
  });

  it('refuses p= on a mechanism without -PLUS, and n or y on a -PLUS one', async () => {
    const p = scramClient({
      hash: 'SHA-1',
      username: 'user',
      password: 'pencil',
      cb: { type: 'tls-exporter', data: EXPORTER },
    });
    assertFailure(await server('SHA-1').start(p.first()), 'malformed-request');
    for (const cb of ['n', 'y'] as const) {
      const c = scramClient({ hash: 'SHA-1', username: 'user', password: 'pencil', cb });
      assertFailure(await server('SHA-1', { plus: true }).start(c.first()), 'malformed-request');
    }
  });

  it('refuses an unsupported channel binding type', async () => {
    const c = scramClient({
      hash: 'SHA-1',
      username: 'user',
      password: 'pencil',
      cb: { type: 'tls-unique', data: EXPORTER },
    });
    const result = await server('SHA-1', { plus: true }).start(c.first());
    assertFailure(result, 'not-authorized');
    assert.equal('credentialsRejected' in result, false);
  });

  it('refuses a c= that drops the channel binding data', async () => {
    const { result } = await exchange(
      { hash: 'SHA-256', plus: true },
      {
        hash: 'SHA-256',
        username: 'user',
        password: 'pencil',
        cb: { type: 'tls-exporter', data: EXPORTER },
      },
      { cbData: Buffer.alloc(0) },
    );
    assertFailure(result, 'not-authorized');
  });

  it('refuses a tampered nonce', async () => {
    for (const nonce of ['fresh-nonce', 'x']) {
      const { result } = await exchange(
        { hash: 'SHA-1' },
        { hash: 'SHA-1', username: 'user', password: 'pencil', nonce: 'abc' },
        { nonce },
      );
      assertFailure(result, 'not-authorized');
    }
    // Only the client's part, without the server's.
    const { result } = await exchange(
      { hash: 'SHA-1' },
      { hash: 'SHA-1', username: 'user', password: 'pencil', nonce: 'abc' },
      { nonce: 'abc' },
    );
    assertFailure(result, 'not-authorized');
  });

  it('refuses malformed client-first messages', async () => {
    const cases: (string | Buffer)[] = [
      'x,,n=user,r=abc',
      'n,n=user,r=abc',
      'n,,r=abc,n=user',
      'n,,n=,r=abc',
      'n,,n=us=er,r=abc',
      'n,,n=us=2c,r=abc', // escapes are upper case
      'n,,n=user,r=',
      'n,,n=user,r=a b',
      'n,,n=user,r=abc,b',
      'n,,n=user,r=abc,p=xyz',
      'n,,m=ext,n=user,r=abc',
      'n,,n=user,r=abc,m=ext',
      'n,a=,n=user,r=abc',
      'n,b=x,n=user,r=abc',
      'p=,,n=user,r=abc',
      'p=tls exporter,,n=user,r=abc',
      'n,,n=us\0er,r=abc',
      'n,,',
      'n',
      Buffer.from([0x6e, 0x2c, 0x2c, 0x6e, 0x3d, 0xff, 0x2c, 0x72, 0x3d, 0x61]), // bad UTF-8
      `n,,n=user,r=${'a'.repeat(5000)}`,
      'n,,n=\u0007,r=abc', // refused by SASLprep
    ];
    for (const c of cases) {
      const step = await server('SHA-1').start(Buffer.from(c));
      assertFailure(step, 'malformed-request');
    }
  });

  it('ignores unknown optional extensions', async () => {
    const s = server('SHA-1');
    const step = await s.start(Buffer.from('n,,n=user,r=abc,x=future'));
    assert.equal(step.kind, 'challenge');
  });

  it('refuses malformed client-final messages', async () => {
    const cases: [string, string][] = [
      ['c=biws,r={nonce}', 'malformed-request'],
      ['r={nonce},c=biws,p=AAAA', 'malformed-request'],
      ['c=bi!s,r={nonce},p=AAAA', 'incorrect-encoding'],
      ['c=biw,r={nonce},p=AAAA', 'incorrect-encoding'],
      ['c=biws,r={nonce},p=AAA=A', 'incorrect-encoding'],
      ['c=biws,r={nonce},p=AAAA', 'malformed-request'], // proof of the wrong length
      ['c=biws,r={nonce},m=x,p={proof}', 'malformed-request'],
      ['c=biws,r={nonce},p={proof},p={proof}', 'malformed-request'],
      ['c=biws,r={nonce},,p={proof}', 'malformed-request'],
      ['', 'malformed-request'],
    ];
    for (const [template, condition] of cases) {
      const s = server('SHA-1');
      const challenge = await s.start(Buffer.from('n,,n=user,r=abc'));
      assert.equal(challenge.kind, 'challenge');
      if (challenge.kind !== 'challenge') return;
      const nonce = challenge.data.toString().split(',')[0]!.slice(2);
      const text = template
        .replaceAll('{nonce}', nonce)
        .replaceAll('{proof}', Buffer.alloc(20).toString('base64'));
      const step = await s.step(Buffer.from(text));
      assertFailure(step, condition);
      if (step.kind === 'failure') assert.equal(step.username, 'user');
    }
  });

  it('ends the exchange after success or failure', async () => {
    const { server: s, client } = await exchange(
      { hash: 'SHA-1' },
      { hash: 'SHA-1', username: 'user', password: 'pencil' },
    );
    assertFailure(await s.step(client.first()), 'malformed-request');
    assertFailure(await s.start(client.first()), 'malformed-request');
    const fresh = server('SHA-1');
    assertFailure(await fresh.step(client.first()), 'malformed-request');
    assertFailure(await fresh.start(Buffer.from('junk')), 'malformed-request');
    assertFailure(await fresh.start(client.first()), 'malformed-request');
  });

  it('reports a failing lookup as temporary-auth-failure', async () => {
    const s = server('SHA-1', {
      lookup: async () => {
        throw new Error('database is down');
      },
    });
    assertFailure(await s.start(Buffer.from('n,,n=user,r=abc')), 'temporary-auth-failure');
  });
});

describe('SCRAM server: arbitrary input', () => {
  const isStep = (s: SaslStep) =>
    (s.kind === 'challenge' && Buffer.isBuffer(s.data)) ||
    (s.kind === 'failure' && s.condition !== 'temporary-auth-failure') ||
    s.kind === 'success';

  it('never throws on random bytes to start() and step()', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 200 }),
        async (plus, first, second) => {
          const s = server('SHA-256', { plus });
          assert.ok(isStep(await s.start(Buffer.from(first))));
          assert.ok(isStep(await s.step(Buffer.from(second))));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on near-valid messages', async () => {
    const attr = fc.oneof(
      fc.constantFrom('n', 'y', 'p=tls-exporter', 'p=x', 'a=u', 'n=user', 'n=nobody', 'r=abc'),
      fc.constantFrom('c=biws', 'c=', 'p=AAAA', 'm=1', '', '=', '=2C', 'x=1'),
      fc.string({ maxLength: 8 }),
    );
    const message = fc.array(attr, { maxLength: 7 }).map((a) => Buffer.from(a.join(',')));
    await fc.assert(
      fc.asyncProperty(fc.boolean(), message, message, async (plus, first, second) => {
        const s = server('SHA-1', { plus });
        assert.ok(isStep(await s.start(first)));
        assert.ok(isStep(await s.step(second)));
      }),
      { numRuns: 500 },
    );
  });
});
