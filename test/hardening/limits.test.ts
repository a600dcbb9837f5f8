import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, afterEach, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { is, ns, RawClient, streamHeader, x } from '../helpers/raw-client.ts';
import { type EventRow, readSecurityEvents } from '../helpers/security-events.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/**
 * Threat T5 (denial of service) and T4 (password guessing) on a live server: every limit
 * ends only the offending stream, with the right stream error, while others keep working.
 * Attackers connect from their own loopback addresses (127.0.0.x) so that per-address
 * limits hit them and not the clients that must keep working.
 */

const PASSWORD = 'hardening pw 1';
const D = 'localhost';
const MAX_STANZA = 65_536;
const MAX_DEPTH = 16;
const CONN_CAP = 16;

const ADDR = {
  cap: '127.0.0.5',
  brute: '127.0.0.3',
  bruteOther: '127.0.0.4',
  fuzzRaw: '127.0.0.6',
  fuzzAuthed: '127.0.0.7',
  slow: '127.0.0.8',
};

let server: RampartProcess;
const clients: RawClient[] = [];

async function login(
  username: string,
  opts: { localAddress?: string; resource?: string; headerExtra?: string } = {},
) {
  const c = await RawClient.login({
    port: server.ports.c2sTls,
    directTls: true,
    username,
    password: PASSWORD,
    ...opts,
  });
  clients.push(c);
  return c;
}

async function connect(opts: { localAddress?: string; directTls?: boolean } = {}) {
  const c = await RawClient.connect({
    port: opts.directTls ? server.ports.c2sTls : server.ports.c2s,
    ...opts,
  });
  clients.push(c);
  return c;
}

/** A chatting pair that must stay unaffected by whatever the attackers do. */
async function chatPair() {
  const alice = await login('alice');
  const bob = await login('bob');
  alice.send('<presence/>');
  bob.send('<presence/>');
  let n = 0;
  return {
    alice,
    bob,
    /** Sends one message each way and waits for both. */
    async exchange(label: string) {
      n++;
      const a = `${label} a→b ${n}`;
      const b = `${label} b→a ${n}`;
      alice.send(x('message', { to: bob.jid, type: 'chat' }, x('body', {}, a)));
      bob.send(x('message', { to: alice.jid, type: 'chat' }, x('body', {}, b)));
      await bob.next(is.message(alice.jid, a), a);
      await alice.next(is.message(bob.jid, b), b);
    },
  };
}

function healthz(): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: server.ports.https, path: '/healthz', rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.setTimeout(2000, () => req.destroy());
    req.once('error', () => resolve(0));
    req.end();
  });
}

/** Security events of the server under test (T4/T5 rules below). */
function securityEvents(where: (e: EventRow) => boolean, atLeast: number): Promise<EventRow[]> {
  return readSecurityEvents(server.dataDir, where, atLeast);
}

before(async () => {
  server = await startRampart({
    authTable: '[auth]\nscram_iterations = 4096\nmax_failures = 5\nbackoff_base_ms = 30000\n',
    config: [
      '[limits]',
      `max_stanza_bytes = ${MAX_STANZA}`,
      `max_depth = ${MAX_DEPTH}`,
      'unauthenticated_timeout_s = 2',
      `max_connections_per_address = ${CONN_CAP}`,
    ].join('\n'),
  });
  const users = ['alice', 'bob', 'mallory', 'victim', 'fuzz'];
  const r = await server.cli(
    ['user', 'import', '-'],
    users.map((u) => `${u}@${D},${PASSWORD}`).join('\n'),
  );
  assert.equal(r.code, 0, r.stderr);
  // Contacts: a stranger's message would be held as a contact request (T1), not delivered.
  await server.addContacts('alice', 'bob');
  await server.addContacts('mallory', 'bob');
});

// Each test hangs up its clients, so that 127.0.0.1 stays under the connection cap.
afterEach(async () => {
  const open = clients.splice(0);
  for (const c of open) c.destroy();
  await Promise.all(open.map((c) => c.waitClosed(2000).catch(() => {})));
  await new Promise((r) => setTimeout(r, 50));
});

after(async () => {
  await server?.stop();
});

describe('stanza limits end only the offending stream', () => {
  it('an oversized stanza gets <policy-violation/>; it is not routed; others keep chatting', async () => {
    const pair = await chatPair();
    await pair.exchange('before');
    const mallory = await login('mallory');
    const body = 'A'.repeat(MAX_STANZA + 1024);
    mallory.send(x('message', { to: pair.bob.jid, type: 'chat' }, x('body', {}, body)));
    await pair.exchange('during');
    assert.equal((await mallory.streamError()).condition, 'policy-violation');
    await mallory.waitClosed();
    await pair.exchange('after');
    await pair.bob.expectNone(is.message('mallory@localhost'), 'the oversized message', 200);
  });

  it('a stanza just over the limit is refused too, one just under it is delivered', async () => {
    const pair = await chatPair();
    const shell = x('message', { to: pair.bob.jid, type: 'chat' }, x('body', {}, '')).toString();
    const under = await login('mallory');
    // Words, not one giant word: the content guard refuses words over 4 KiB (T5).
    const okBody = `${'u'.repeat(99)} `
      .repeat(Math.ceil(MAX_STANZA / 100))
      .slice(0, MAX_STANZA - shell.length - 64);
    under.send(x('message', { to: pair.bob.jid, type: 'chat' }, x('body', {}, okBody)));
    const got = await pair.bob.next(
      is.message('mallory@localhost'),
      'the large but allowed message',
    );
    assert.equal(got.getChildText('body')?.length, okBody.length);

    const over = await login('mallory');
    const overBody = 'o'.repeat(MAX_STANZA - shell.length + 16);
    over.send(x('message', { to: pair.bob.jid, type: 'chat' }, x('body', {}, overBody)));
    assert.equal((await over.streamError()).condition, 'policy-violation');
    await pair.bob.expectNone(
      (e) => e.name === 'message' && e.getChildText('body') === overBody,
      'the message over the limit',
      300,
    );
    await pair.exchange('after the limit');
  });

  it('nesting deeper than max_depth gets <policy-violation/>', async () => {
    const pair = await chatPair();
    const ok = await login('mallory');
    const nest = (n: number) => `${'<x>'.repeat(n)}${'</x>'.repeat(n)}`;
    // The stanza itself is level 1.
    ok.send(
      `<message to='${pair.bob.jid}' type='chat'><body>deep ok</body>${nest(MAX_DEPTH - 1)}</message>`,
    );
    await pair.bob.next(is.message('mallory@localhost', 'deep ok'), 'max depth message');
    const deep = await login('mallory');
    deep.send(`<message to='${pair.bob.jid}'>${'<x>'.repeat(10_000)}`);
    assert.equal((await deep.streamError()).condition, 'policy-violation');
    await deep.waitClosed();
    await pair.exchange('after deep nesting');
  });

  it('too many attributes on one element get <policy-violation/>', async () => {
    const a = await login('mallory');
    const attrs = Array.from({ length: 100 }, (_, i) => ` a${i}='1'`).join('');
    a.send(`<message to='bob@localhost'${attrs}/>`);
    assert.equal((await a.streamError()).condition, 'policy-violation');
  });

  it('a DTD (billion laughs) gets <restricted-xml/>, before or after authentication', async () => {
    const lol =
      "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>" +
      "<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>" +
      "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]>";
    const pre = await connect({ localAddress: ADDR.slow });
    pre.write(lol + streamHeader().replace("<?xml version='1.0'?>", ''));
    assert.equal((await pre.streamError()).condition, 'restricted-xml');
    await pre.waitClosed();

    const authed = await login('mallory');
    authed.send(`<!DOCTYPE lolz [<!ENTITY lol 'lol'>]><message to='bob@localhost'>&lol;</message>`);
    const err = await authed.streamError();
    // Inside the stream a DTD is also not well-formed XML; either condition ends it.
    assert.ok(['restricted-xml', 'not-well-formed'].includes(err.condition), err.condition);
    const ent = await login('mallory');
    ent.send("<message to='bob@localhost'><body>&lol3;</body></message>");
    const entErr = await ent.streamError();
    assert.ok(['restricted-xml', 'not-well-formed'].includes(entErr.condition), entErr.condition);
    const comment = await login('mallory');
    comment.send('<!-- hidden -->');
    assert.equal((await comment.streamError()).condition, 'restricted-xml');
  });

  it("namespace declarations in the sender's header cannot break the recipient's stream", async () => {
    const pair = await chatPair();
    const m = await login('mallory', { headerExtra: "xmlns:evil='urn:example:evil'" });
    m.send(
      `<message to='${pair.bob.jid}' type='chat' evil:attr='x'><body>prefixed</body><evil:payload/></message>`,
    );
    const got = await pair.bob.next(
      is.message('mallory@localhost', 'prefixed'),
      'the prefixed message',
    );
    assert.equal(got.attrs['evil:attr'], 'x');
    assert.ok(got.getChild('payload', 'urn:example:evil'));
    await pair.exchange('after prefixed');
  });
});

describe('connection limits', () => {
  it('closes a stream that does not authenticate within unauthenticated_timeout_s', async () => {
    const silent = await connect({ localAddress: ADDR.slow });
    const headerOnly = await connect({ localAddress: ADDR.slow });
    await headerOnly.openStream();
    const noBind = await connect({ localAddress: ADDR.slow, directTls: true });
    await noBind.openStream();
    assert.ok((await noBind.authenticate('bob', PASSWORD)).ok);
    await noBind.openStream();
    const started = Date.now();
    for (const c of [silent, headerOnly, noBind]) {
      assert.equal((await c.streamError(6000)).condition, 'connection-timeout', c.describe());
      await c.waitClosed();
    }
    const took = Date.now() - started;
    assert.ok(took < 7000, `closed after ${took} ms`);
    const events = await securityEvents(
      (e) => e.rule === 'stream.unauthenticated-timeout' && e.address === ADDR.slow,
      3,
    );
    assert.ok(events.length >= 3);
    assert.equal(events[0]?.threat, 'T5');
    assert.equal(events[0]?.verdict, 'close');
  });

  it('caps concurrent connections per address, on both ports; others are unaffected', async () => {
    const admitted: RawClient[] = [];
    for (let i = 0; i < CONN_CAP; i++) {
      const c = await connect({ localAddress: ADDR.cap, directTls: i % 2 === 1 });
      await c.openStream();
      admitted.push(c);
    }
    for (const directTls of [false, true]) {
      const refused = await connect({ localAddress: ADDR.cap, directTls }).catch(() => undefined);
      if (refused) {
        // Accepted by the kernel, then dropped by the server without a byte.
        await refused.waitClosed();
        assert.equal(
          refused.events.filter((e) => e.kind !== 'closed').length,
          0,
          refused.describe(),
        );
      }
    }
    // Another address still gets in.
    const other = await login('alice');
    assert.ok(other.jid);
    // A freed slot is usable again.
    admitted[0]!.destroy();
    await admitted[0]!.waitClosed();
    await new Promise((r) => setTimeout(r, 100));
    const again = await connect({ localAddress: ADDR.cap });
    await again.openStream();
    const events = await securityEvents(
      (e) => e.rule === 'connections.per-address' && e.address === ADDR.cap,
      2,
    );
    assert.ok(events.length >= 2);
    assert.equal(events[0]?.verdict, 'refuse');
    for (const c of [...admitted, again]) c.destroy();
  });
});

describe('password guessing (T4)', () => {
  async function attempt(username: string, password: string, localAddress: string) {
    const c = await connect({ localAddress, directTls: true });
    await c.openStream();
    const r = await c.authenticate(username, password);
    c.destroy();
    return r;
  }

  it('after 5 failures even the right password is refused with <temporary-auth-failure/>, and every step is an event', async () => {
    for (let i = 1; i <= 5; i++) {
      const r = await attempt('victim', `guess ${i}`, ADDR.brute);
      assert.equal(!r.ok && r.condition, 'not-authorized', `guess ${i}`);
    }
    const right = await attempt('victim', PASSWORD, ADDR.brute);
    assert.equal(right.ok, false, 'the right password during the penalty');
    assert.equal(!right.ok && right.condition, 'temporary-auth-failure');
    assert.match((!right.ok && right.text) || '', /\d+ seconds/);
    // The account is locked, whatever the address.
    const elsewhere = await attempt('victim', PASSWORD, ADDR.bruteOther);
    assert.equal(!elsewhere.ok && elsewhere.condition, 'temporary-auth-failure');
    // And the guessing address is locked for other accounts too.
    const otherAccount = await attempt('mallory', PASSWORD, ADDR.brute);
    assert.equal(!otherAccount.ok && otherAccount.condition, 'temporary-auth-failure');
    // Everyone else logs in as usual.
    assert.ok((await login('mallory')).jid);

    const rows = await securityEvents(
      (e) => e.target === 'victim@localhost' && e.rule.startsWith('auth.'),
      7,
    );
    const rules = rows.map((e) => e.rule);
    assert.equal(rules.filter((r) => r === 'auth.failure').length, 4, rules.join());
    assert.equal(rules.filter((r) => r === 'auth.lockout').length, 1, rules.join());
    assert.ok(rules.filter((r) => r === 'auth.locked').length >= 2, rules.join());
    for (const e of rows) {
      assert.equal(e.threat, 'T4');
      assert.ok(e.time > Date.now() - 120_000 && e.time <= Date.now());
      assert.ok(e.actor);
      assert.ok(e.address === ADDR.brute || e.address === ADDR.bruteOther, e.address ?? '');
      assert.ok(['refuse', 'delay'].includes(e.verdict), e.verdict);
      const evidence = JSON.parse(e.evidence ?? '{}') as Record<string, unknown>;
      assert.equal(evidence.mechanism, 'SCRAM-SHA-256');
      assert.doesNotMatch(e.evidence ?? '', /guess|hardening pw/, 'no password in the evidence');
    }
    const lockout = rows.find((e) => e.rule === 'auth.lockout')!;
    assert.equal(lockout.verdict, 'delay');
    assert.ok((JSON.parse(lockout.evidence!) as { penaltyMs: number }).penaltyMs >= 30_000);
  });
});

describe('fuzzing a live server (fast-check)', () => {
  const preAuthSamples = [
    streamHeader(),
    `${streamHeader()}<starttls xmlns='${ns.tls}'/>`,
    `${streamHeader()}<auth xmlns='${ns.sasl}' mechanism='SCRAM-SHA-256'>biwsbj1mdXp6LHI9YWJj</auth>`,
    `${streamHeader()}<iq type='set' id='b'><bind xmlns='${ns.bind}'/></iq></stream:stream>`,
  ];
  const stanzaSamples = [
    "<message to='bob@localhost' type='chat' id='f1'><body>fuzz &amp; stuff</body></message>",
    "<presence to='alice@localhost' type='subscribe'/>",
    '<presence><show>away</show><priority>-1</priority><status>€</status></presence>',
    `<iq type='set' id='r'><query xmlns='${ns.roster}'><item jid='alice@localhost' name='A'><group>g</group></item></query></iq>`,
    `<iq type='get' to='localhost' id='d'><query xmlns='${ns.discoInfo}'/></iq>`,
    `<iq type='get' to='bob@localhost/x' id='v'><query xmlns='${ns.version}'/></iq>`,
    `<iq type='get' to='alice@localhost' id='l'><query xmlns='${ns.last}'/></iq>`,
    "<presence to='bob@localhost' type='probe'/>",
    "<message to='localhost'><body>to the server</body></message>",
  ];
  const tokens = [
    '<',
    '>',
    '/>',
    '</',
    '&',
    '&amp;',
    ';',
    "'",
    '"',
    '=',
    ':',
    '<!--',
    '<?',
    ']]>',
    '<![CDATA[',
    '\u0000',
    '\uFFFF',
    'é',
    '😀',
    ' xmlns="urn:x"',
    " from='alice@localhost'",
    " to='a@b@c'",
    " type='error'",
    '</stream:stream>',
    '<stream:stream>',
    "<iq type='get' id='z'>",
    'x'.repeat(300),
  ];
  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      text: fc.constantFrom(...tokens),
    }),
    fc.record({
      kind: fc.constant('delete' as const),
      at: fc.nat(),
      len: fc.integer({ min: 1, max: 30 }),
    }),
    fc.record({
      kind: fc.constant('dup' as const),
      at: fc.nat(),
      len: fc.integer({ min: 1, max: 200 }),
    }),
  );
  type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

  function mutate(text: string, mutations: Mutation[]): Buffer {
    let bytes = Buffer.from(text);
    for (const m of mutations) {
      const at = m.at % (bytes.length + 1);
      if (m.kind === 'flip' && bytes.length > 0) {
        bytes = Buffer.from(bytes);
        bytes[at % bytes.length] = m.byte;
      } else if (m.kind === 'insert') {
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text), bytes.subarray(at)]);
      } else if (m.kind === 'delete') {
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.len)]);
      } else if (m.kind === 'dup') {
        bytes = Buffer.concat([bytes.subarray(0, at + m.len), bytes.subarray(at)]);
      }
    }
    return bytes;
  }

  /** Writes the bytes in the given cuts, waits a moment for the server to react, hangs up. */
  async function blast(c: RawClient, bytes: Buffer, cuts: number[]): Promise<void> {
    let pos = 0;
    for (let i = 0; pos < bytes.length; i++) {
      const n = cuts[i % cuts.length]!;
      c.write(bytes.subarray(pos, pos + n));
      pos += n;
    }
    await Promise.race([c.waitClosed(60).catch(() => {}), new Promise((r) => setTimeout(r, 30))]);
    c.destroy();
  }

  it('random and mutated streams never crash the server nor stall other sessions', async () => {
    const pair = await chatPair();
    await pair.exchange('warm-up');
    // Background chat for the whole run; every message must arrive, in order.
    const sent: string[] = [];
    let chatting = true;
    const chat = (async () => {
      for (let i = 0; chatting; i++) {
        const body = `steady ${i}`;
        sent.push(body);
        pair.alice.send(x('message', { to: pair.bob.jid, type: 'chat' }, x('body', {}, body)));
        await new Promise((r) => setTimeout(r, 40));
      }
    })();

    const cuts = fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 });
    let runs = 0;
    let refusedByCap = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.record({
              kind: fc.constant('bytes' as const),
              data: fc.uint8Array({ maxLength: 2048 }),
            }),
            fc.record({
              kind: fc.constant('pre-auth' as const),
              sample: fc.constantFrom(...preAuthSamples),
              mutations: fc.array(mutation, { maxLength: 5 }),
            }),
            fc.record({
              kind: fc.constant('authed' as const),
              samples: fc.array(fc.constantFrom(...stanzaSamples), { minLength: 1, maxLength: 5 }),
              mutations: fc.array(mutation, { maxLength: 4 }),
            }),
          ),
          cuts,
          fc.boolean(),
          async (input, cutList, directTls) => {
            runs++;
            if (input.kind === 'authed') {
              const c = await RawClient.login({
                port: server.ports.c2sTls,
                directTls: true,
                username: 'fuzz',
                password: PASSWORD,
                resource: 'fz',
                localAddress: ADDR.fuzzAuthed,
              });
              await blast(c, mutate(input.samples.join(''), input.mutations), cutList);
              return;
            }
            let c: RawClient;
            try {
              c = await RawClient.connect({
                port: directTls ? server.ports.c2sTls : server.ports.c2s,
                directTls,
                localAddress: ADDR.fuzzRaw,
              });
            } catch (err) {
              // The fuzzer's own address can reach max_connections_per_address while the server
              // is still closing earlier fuzz connections: that refusal is the defence working.
              if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
              refusedByCap++;
              return;
            }
            const bytes =
              input.kind === 'bytes'
                ? Buffer.from(input.data)
                : mutate(input.sample, input.mutations);
            await blast(c, bytes, cutList);
          },
        ),
        { numRuns: 100_000, interruptAfterTimeLimit: 15_000, markInterruptAsFailure: false },
      );
    } finally {
      // Stop the background chat even when the property fails, or the test never ends.
      chatting = false;
      await chat;
    }

    assert.ok(runs > 50, `only ${runs} fuzz runs`);
    for (const body of sent) await pair.bob.next(is.message(pair.alice.jid, body), body, 5000);
    assert.equal(await healthz(), 200);
    await pair.exchange('after fuzzing');
    const fresh = await login('mallory');
    const pong = await fresh.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: ns.ping })));
    assert.equal(pong.attrs.type, 'result');
    process.stdout.write(`# fuzz: ${runs} connections, ${refusedByCap} refused by the cap\n`);
  });
});
