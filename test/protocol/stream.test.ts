import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import {
  ns,
  RawClient,
  type StreamEvent,
  streamErrorOf,
  streamHeader,
  x,
} from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/**
 * RFC 6120 stream negotiation on the wire: headers, stream errors, STARTTLS, SASL and
 * resource binding, as the real `rampart start` serves them.
 */

const PASSWORD = 'correct horse 1';
let server: RampartProcess;
const open: RawClient[] = [];

async function connect(opts: { directTls?: boolean; localAddress?: string } = {}) {
  const c = await RawClient.connect({
    port: opts.directTls ? server.ports.c2sTls : server.ports.c2s,
    ...opts,
  });
  open.push(c);
  return c;
}

async function login(username: string, resource?: string) {
  const c = await RawClient.login({
    port: server.ports.c2s,
    username,
    password: PASSWORD,
    ...(resource === undefined ? {} : { resource }),
  });
  open.push(c);
  return c;
}

/** The kinds of what arrived, with element names: ['header', 'features', ...]. */
function shape(events: StreamEvent[]): string[] {
  return events.map((e) => (e.kind === 'element' ? e.el.name : e.kind));
}

/** Asserts: our header came first, then exactly one stream error, then the stream closed. */
async function expectHeaderThenError(c: RawClient, condition: string): Promise<void> {
  const err = await c.streamError();
  await c.waitClosed();
  assert.equal(err.condition, condition, c.describe());
  const kinds = shape(c.events).filter((k) => k !== 'closed');
  assert.equal(kinds[0], 'header', `the server's header must come first:\n${c.describe()}`);
  assert.deepEqual(kinds.slice(-2), ['error', 'end'], c.describe());
  const header = c.events[0] as { kind: 'header'; attrs: Record<string, string> };
  assert.equal(header.attrs.from, 'localhost');
  assert.equal(header.attrs['xmlns:stream'], ns.stream);
  assert.ok(header.attrs.id, 'the response header carries a stream id');
}

before(async () => {
  server = await startRampart({
    // Many deliberate SASL failures below: keep the brute-force brake out of the way here
    // (it has its own test in test/hardening).
    authTable: '[auth]\nscram_iterations = 4096\nmax_failures = 100\n',
  });
  const r = await server.cli(
    ['user', 'import', '-'],
    ['alice', 'bob', 'carol', 'dave'].map((u) => `${u}@localhost,${PASSWORD}`).join('\n'),
  );
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  for (const c of open) c.destroy();
  await server?.stop();
});

describe('stream header (RFC 6120 §4.7, §4.9)', () => {
  it('answers a good header with its own header, version 1.0 and a stream id', async () => {
    const c = await connect();
    await c.openStream();
    assert.equal(c.header?.version, '1.0');
    assert.equal(c.header?.from, 'localhost');
    assert.equal(c.header?.xmlns, ns.client);
    assert.match(c.header?.id ?? '', /^\S{8,}$/);
  });

  const cases: [string, Parameters<typeof streamHeader>[0], string][] = [
    ['a wrong stream namespace', { streamNs: 'urn:example:not-streams' }, 'invalid-namespace'],
    ['a wrong content namespace', { xmlns: 'jabber:server' }, 'invalid-namespace'],
    ['a `to` naming another host', { to: 'example.org' }, 'host-unknown'],
    ['a `to` that is not a domain', { to: 'alice@localhost' }, 'host-unknown'],
    ['no version (pre-XMPP 1.0)', { version: null }, 'unsupported-version'],
    ['version 0.9', { version: '0.9' }, 'unsupported-version'],
  ];
  for (const [what, header, condition] of cases) {
    it(`answers ${what} with its header, then <${condition}/>`, async () => {
      const c = await connect();
      c.write(streamHeader(header));
      await expectHeaderThenError(c, condition);
      assert.ok(
        !c.events.some((e) => e.kind === 'element' && e.el.name === 'features'),
        'no features after a bad header',
      );
    });
  }

  it('answers a root element that is not <stream:stream/> with its header, then an error', async () => {
    const c = await connect();
    c.write(`<?xml version='1.0'?><stream xmlns='jabber:client' to='localhost' version='1.0'>`);
    await expectHeaderThenError(c, 'invalid-namespace');
  });

  it('sends its header before the error even when the header never came (junk, DTD, encoding)', async () => {
    const inputs: [string, string][] = [
      ['<!DOCTYPE stream [<!ENTITY x "y">]>', 'restricted-xml'],
      ["<?xml version='1.0' encoding='ISO-8859-1'?>", 'unsupported-encoding'],
      ['<a b="1" b="2">', 'not-well-formed'],
    ];
    for (const [input, condition] of inputs) {
      const c = await connect();
      c.write(input);
      await expectHeaderThenError(c, condition);
    }
  });

  it('closes its stream when the client closes its stream', async () => {
    const c = await connect();
    await c.openStream();
    c.write('</stream:stream>');
    await c.waitClosed();
    assert.equal(
      shape(c.events)
        .filter((k) => k !== 'closed')
        .at(-1),
      'end',
    );
  });
});

describe('STARTTLS (RFC 6120 §5)', () => {
  it('offers nothing but <starttls><required/></starttls> before TLS', async () => {
    const c = await connect();
    const features = await c.openStream();
    assert.deepEqual(
      features.elements().map((e) => `${e.xmlns} ${e.name}`),
      [`${ns.tls} starttls`],
      features.toString(),
    );
    assert.ok(features.getChild('starttls', ns.tls)?.getChild('required'), 'TLS is required');
  });

  const beforeTls: [string, string][] = [
    ['a SASL <auth/>', `<auth xmlns='${ns.sasl}' mechanism='PLAIN'>AGFsaWNlAHg=</auth>`],
    ['an iq (resource binding)', `<iq type='set' id='b'><bind xmlns='${ns.bind}'/></iq>`],
    ['a message', "<message to='bob@localhost'><body>plaintext</body></message>"],
  ];
  for (const [what, data] of beforeTls) {
    it(`answers ${what} before TLS with <policy-violation/>`, async () => {
      const c = await connect();
      await c.openStream();
      c.write(data);
      const err = await c.streamError();
      assert.equal(err.condition, 'policy-violation');
      await c.waitClosed();
    });
  }

  it('after <proceed/> and the handshake, offers SASL and no longer STARTTLS', async () => {
    const c = await connect();
    await c.openStream();
    await c.startTls();
    const features = await c.openStream();
    assert.equal(features.getChild('starttls', ns.tls), undefined);
    assert.ok(features.getChild('mechanisms', ns.sasl));
    assert.equal(c.tlsSocket?.getProtocol(), 'TLSv1.3');
  });

  it('gives a new stream id after every stream restart (RFC 6120 §4.3.3)', async () => {
    const c = await connect();
    await c.openStream();
    const first = c.header?.id;
    await c.startTls();
    await c.openStream();
    const second = c.header?.id;
    assert.ok((await c.authenticate('alice', PASSWORD)).ok);
    await c.openStream();
    const third = c.header?.id;
    assert.equal(new Set([first, second, third]).size, 3, `ids: ${first} ${second} ${third}`);
  });

  it('refuses TLS 1.1 on the STARTTLS port', async () => {
    const c = await connect();
    await c.openStream();
    await assert.rejects(
      c.startTls({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
      /alert protocol version/,
    );
  });

  it('refuses TLS 1.1 on the direct TLS port, accepts TLS 1.2', async () => {
    const attempt = (maxVersion: 'TLSv1.1' | 'TLSv1.2') =>
      new Promise<string>((resolve, reject) => {
        const s = tlsConnect({
          host: '127.0.0.1',
          port: server.ports.c2sTls,
          servername: 'localhost',
          rejectUnauthorized: false,
          minVersion: 'TLSv1',
          maxVersion,
          ciphers: 'DEFAULT@SECLEVEL=0',
        });
        s.once('secureConnect', () => {
          resolve(s.getProtocol() ?? '');
          s.destroy();
        });
        s.once('error', reject);
      });
    await assert.rejects(attempt('TLSv1.1'), /alert protocol version/);
    assert.equal(await attempt('TLSv1.2'), 'TLSv1.2');
  });
});

describe('direct TLS (XEP-0368)', () => {
  it('offers SASL at once, and no STARTTLS', async () => {
    const c = await connect({ directTls: true });
    const features = await c.openStream();
    assert.equal(features.getChild('starttls', ns.tls), undefined);
    assert.ok(features.getChild('mechanisms', ns.sasl), features.toString());
    const r = await c.authenticate('bob', PASSWORD, { mechanism: 'SCRAM-SHA-256-PLUS' });
    assert.deepEqual(r, { ok: true });
  });
});

describe('SASL (RFC 6120 §6, RFC 5802, RFC 7677)', () => {
  it('offers SCRAM-SHA-256(-PLUS) and SCRAM-SHA-1(-PLUS), never PLAIN, and both binding types on TLS 1.3', async () => {
    const c = await connect({ directTls: true });
    await c.openStream();
    const mechs = c.mechanisms();
    for (const m of ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1'])
      assert.ok(mechs.includes(m), `${m} in ${mechs}`);
    assert.ok(!mechs.includes('PLAIN'), 'PLAIN is off by default');
    const cb = c.features
      ?.getChild('sasl-channel-binding', 'urn:xmpp:sasl-cb:0')
      ?.getChildren('channel-binding')
      .map((e) => e.attrs.type);
    assert.deepEqual(cb?.sort(), ['tls-exporter', 'tls-server-end-point']);
  });

  it('on TLS 1.2 offers no tls-exporter (it needs TLS 1.3, RFC 9266)', async () => {
    const c = await RawClient.connect({
      port: server.ports.c2sTls,
      directTls: true,
      tls: { maxVersion: 'TLSv1.2' },
    });
    open.push(c);
    await c.openStream();
    const cb = c.features
      ?.getChild('sasl-channel-binding', 'urn:xmpp:sasl-cb:0')
      ?.getChildren('channel-binding')
      .map((e) => e.attrs.type);
    assert.ok(cb?.includes('tls-server-end-point'), `${cb}`);
    assert.ok(!cb?.includes('tls-exporter'), `${cb}`);
    assert.ok((await c.authenticate('bob', PASSWORD, { mechanism: 'SCRAM-SHA-1-PLUS' })).ok);
  });

  const logins: [string, Parameters<RawClient['authenticate']>[2]][] = [
    ['SCRAM-SHA-256', { mechanism: 'SCRAM-SHA-256' }],
    ['SCRAM-SHA-1', { mechanism: 'SCRAM-SHA-1' }],
    [
      'SCRAM-SHA-256-PLUS with tls-exporter',
      { mechanism: 'SCRAM-SHA-256-PLUS', cbType: 'tls-exporter' },
    ],
    [
      'SCRAM-SHA-1-PLUS with tls-server-end-point',
      { mechanism: 'SCRAM-SHA-1-PLUS', cbType: 'tls-server-end-point' },
    ],
  ];
  for (const [what, opts] of logins) {
    it(`logs in over STARTTLS with ${what}, and the server proves it knows the key`, async () => {
      const c = await connect();
      await c.openStream();
      await c.startTls();
      await c.openStream();
      assert.deepEqual(await c.authenticate('alice', PASSWORD, opts), { ok: true });
    });
  }

  it('refuses a wrong password with <not-authorized/> and lets the client retry', async () => {
    const c = await connect({ directTls: true });
    await c.openStream();
    const bad = await c.authenticate('alice', 'wrong password');
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.condition, 'not-authorized');
    assert.deepEqual(await c.authenticate('alice', PASSWORD), { ok: true });
  });

  it('refuses an unknown user exactly like a wrong password', async () => {
    const c = await connect({ directTls: true });
    await c.openStream();
    const r = await c.authenticate('nobody', PASSWORD);
    assert.equal(!r.ok && r.condition, 'not-authorized');
  });

  it('refuses -PLUS with channel-binding data from another TLS connection', async () => {
    const c = await connect({ directTls: true });
    await c.openStream();
    const r = await c.authenticate('alice', PASSWORD, {
      mechanism: 'SCRAM-SHA-256-PLUS',
      cbType: 'tls-exporter',
      cbData: Buffer.alloc(32, 7),
    });
    assert.equal(r.ok, false, 'a man in the middle would relay a foreign binding');
  });

  it("refuses gs2 flag 'y' while the server offers -PLUS (downgrade detection, RFC 5802 §6)", async () => {
    const c = await connect({ directTls: true });
    await c.openStream();
    const r = await c.authenticate('alice', PASSWORD, { mechanism: 'SCRAM-SHA-256', gs2Flag: 'y' });
    assert.equal(r.ok, false);
  });

  it('refuses a mechanism it did not offer (PLAIN) with <invalid-mechanism/>', async () => {
    const c = await connect({ directTls: true });
    await c.openStream();
    c.send(
      x(
        'auth',
        { xmlns: ns.sasl, mechanism: 'PLAIN' },
        Buffer.from(`\0alice\0${PASSWORD}`).toString('base64'),
      ),
    );
    const failure = await c.next((e) => e.xmlns === ns.sasl, 'SASL failure');
    assert.equal(failure.name, 'failure');
    assert.ok(failure.getChild('invalid-mechanism'), failure.toString());
  });

  it('refuses an authzid other than the account with <invalid-authzid/>', async () => {
    const c = await connect({ directTls: true });
    await c.openStream();
    const r = await c.authenticate('alice', PASSWORD, { authzid: 'bob@localhost' });
    assert.equal(!r.ok && r.condition, 'invalid-authzid');
  });

  it('ends a stream after three failed attempts with <policy-violation/> (RFC 6120 §6.4.5)', async () => {
    const c = await connect({ directTls: true });
    await c.openStream();
    for (let i = 0; i < 3; i++)
      assert.equal((await c.authenticate('alice', `nope ${i}`)).ok, false);
    assert.equal((await c.streamError()).condition, 'policy-violation');
    await c.waitClosed();
  });

  it('closes an unauthenticated stream that sends a stanza with <not-authorized/>', async () => {
    const c = await connect({ directTls: true });
    await c.openStream();
    c.send("<message to='bob@localhost'><body>let me in</body></message>");
    assert.equal((await c.streamError()).condition, 'not-authorized');
    await c.waitClosed();
  });

  it('after SASL offers resource binding and no more mechanisms', async () => {
    const c = await connect({ directTls: true });
    await c.openStream();
    assert.ok((await c.authenticate('carol', PASSWORD)).ok);
    const features = await c.openStream();
    assert.ok(features.getChild('bind', ns.bind), features.toString());
    assert.equal(features.getChild('mechanisms', ns.sasl), undefined);
    assert.equal(features.getChild('starttls', ns.tls), undefined);
  });
});

describe('resource binding (RFC 6120 §7)', () => {
  it('binds the requested resource', async () => {
    const c = await login('alice', 'laptop');
    assert.equal(c.jid, 'alice@localhost/laptop');
  });

  it('generates a resource when the client asks for none', async () => {
    const c1 = await login('alice');
    const c2 = await login('alice');
    assert.match(c1.jid ?? '', /^alice@localhost\/\S+$/);
    assert.match(c2.jid ?? '', /^alice@localhost\/\S+$/);
    assert.notEqual(c1.jid, c2.jid);
  });

  it('gives the resource to the newer stream; the older gets <conflict/>', async () => {
    const older = await login('bob', 'phone');
    const newer = await login('bob', 'phone');
    assert.equal(newer.jid, 'bob@localhost/phone');
    const err = await older.streamError();
    assert.equal(err.condition, 'conflict');
    await older.waitClosed();
    // The newer session is the one that works.
    const pong = await newer.iq(
      x('iq', { type: 'get', to: 'localhost' }, x('ping', { xmlns: ns.ping })),
    );
    assert.equal(pong.attrs.type, 'result');
  });

  it('refuses more sessions than max_resources_per_account with <resource-constraint/>', async () => {
    const sessions = [];
    for (let i = 0; i < 10; i++) sessions.push(await login('dave', `r${i}`));
    const c = await connect({ directTls: true });
    await c.openStream();
    assert.ok((await c.authenticate('dave', PASSWORD)).ok);
    await c.openStream();
    const reply = await c.iq(x('iq', { type: 'set' }, x('bind', { xmlns: ns.bind })));
    assert.equal(reply.attrs.type, 'error');
    assert.ok(
      reply.getChild('error')?.getChild('resource-constraint', ns.stanzaErrors),
      reply.toString(),
    );
    // Taking over one of the existing resources is still allowed (the newer wins).
    assert.equal(await c.bind('r0'), 'dave@localhost/r0');
    assert.equal((await sessions[0]!.streamError()).condition, 'conflict');
  });

  it('refuses a resource that is not a valid resourcepart with a stanza error, not a crash', async () => {
    const c = await connect({ directTls: true });
    await c.openStream();
    assert.ok((await c.authenticate('carol', PASSWORD)).ok);
    await c.openStream();
    const reply = await c.iq(
      x(
        'iq',
        { type: 'set' },
        x('bind', { xmlns: ns.bind }, x('resource', {}, 'bad\uE000resource')),
      ),
    );
    assert.equal(reply.attrs.type, 'error', reply.toString());
    // The stream is still usable: a good bind works.
    assert.match(await c.bind('ok'), /^carol@localhost\/ok$/);
  });

  it('the stream error for a displaced session is a proper XML child of its stream', async () => {
    const older = await login('carol', 'desk');
    await login('carol', 'desk');
    const el = await older.next((e) => e.name === 'error' && e.xmlns === ns.stream, 'stream error');
    assert.equal(streamErrorOf(el).condition, 'conflict');
    assert.ok(el.getChild('text', ns.streamErrors)?.text(), 'a human-readable text');
  });
});
