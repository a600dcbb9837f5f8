import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { is, ns, RawClient, type StreamEvent, x } from '../helpers/raw-client.ts';
import { readSecurityEvents } from '../helpers/security-events.ts';
import { type RampartProcess, startRampart, withServerLog } from '../helpers/server.ts';
import {
  NS_FRAMING,
  UpgradeRefused,
  WsClient,
  type WsConnectOptions,
} from '../helpers/ws-client.ts';

/**
 * XMPP over WebSocket (RFC 7395) on the HTTPS port, spoken raw with `ws`: framing, the
 * same negotiation and limits as TCP, the upgrade refusals (subprotocol, Origin, per-address
 * cap), and XEP-0156 discovery.
 */

const PASSWORD = 'websocket pw 1';
const MAX_STANZA = 16_384;
const CONN_CAP = 20;
let server: RampartProcess;
const open: RawClient[] = [];

before(async () => {
  server = await startRampart({
    config: [
      '[limits]',
      `max_stanza_bytes = ${MAX_STANZA}`,
      `max_connections_per_address = ${CONN_CAP}`,
      '[websocket]',
      'allowed_origins = ["https://app.example.net"]',
    ].join('\n'),
  });
  for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, PASSWORD);
  // Contacts: a stranger's message would wait as a contact request (T1) instead of arriving.
  await server.addContacts('alice', 'bob');
});

after(async () => {
  for (const c of open) c.destroy();
  await server?.stop();
});

async function wsConnect(opts: Partial<WsConnectOptions> = {}): Promise<WsClient> {
  const c = await WsClient.connect({ port: server.ports.https, ...opts });
  open.push(c);
  return c;
}

async function wsLogin(username: string, resource?: string): Promise<WsClient> {
  const c = await WsClient.login({
    port: server.ports.https,
    username,
    password: PASSWORD,
    ...(resource === undefined ? {} : { resource }),
  });
  open.push(c);
  return c;
}

function shape(events: StreamEvent[]): string[] {
  return events.map((e) => (e.kind === 'element' ? e.el.name : e.kind));
}

function parseErrors(c: RawClient): string[] {
  return c.events.flatMap((e) => (e.kind === 'parse-error' ? [e.message] : []));
}

/** A stream error, then <close/>, then the WebSocket closes (RFC 7395 §3.6). */
async function expectStreamError(c: WsClient, condition: string): Promise<void> {
  const err = await c.streamError();
  await c.waitClosed();
  assert.equal(err.condition, condition, c.describe());
  const kinds = shape(c.events).filter((k) => k !== 'closed');
  assert.deepEqual(kinds.slice(-2), ['error', 'end'], c.describe());
  assert.deepEqual(parseErrors(c), []);
}

function refusal(p: Promise<unknown>): Promise<UpgradeRefused> {
  return p.then(
    () => assert.fail('the upgrade was accepted'),
    (err: unknown) => {
      assert.ok(err instanceof UpgradeRefused, String(err));
      return err;
    },
  );
}

function httpsGet(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.ports.https, path, headers, rejectUnauthorized: false },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('RFC 7395 stream over WebSocket', () => {
  it('opens with <open/>, offers SASL but no STARTTLS, restarts with a new <open/>, binds, chats with a TCP client', () =>
    withServerLog(server, async () => {
      const c = await wsConnect();
      assert.equal(c.protocol, 'xmpp');
      const features = await c.openStream();
      assert.equal(c.header?.from, 'localhost');
      assert.equal(c.header?.version, '1.0');
      assert.ok(c.header?.id);
      assert.equal(features.getChild('starttls', ns.tls), undefined, features.toString());
      assert.ok(c.mechanisms().includes('SCRAM-SHA-256'), features.toString());
      const auth = await c.authenticate('alice', PASSWORD);
      assert.deepEqual(auth, { ok: true });
      const firstId = c.header?.id;
      const bindFeatures = await c.openStream();
      assert.notEqual(c.header?.id, firstId, 'a restarted stream gets a new id');
      assert.ok(bindFeatures.getChild('bind', ns.bind), bindFeatures.toString());
      const jid = await c.bind('web');
      assert.equal(jid, 'alice@localhost/web');
      // RFC 3921 session establishment, still sent by Strophe (Converse.js): a no-op result.
      const session = await c.iq(
        x('iq', { type: 'set' }, x('session', { xmlns: 'urn:ietf:params:xml:ns:xmpp-session' })),
      );
      assert.equal(session.attrs.type, 'result', session.toString());
      open.push(c);

      const tcp = await RawClient.login({
        port: server.ports.c2s,
        username: 'bob',
        password: PASSWORD,
      });
      open.push(tcp);
      tcp.send(x('message', { to: jid, type: 'chat' }, x('body', {}, 'from tcp')));
      const got = await c.next(is.message('bob@localhost', 'from tcp'), 'the message from bob');
      // Every message is a document of its own: the stanza carries its namespace.
      assert.equal(got.xmlns, ns.client);
      c.send(x('message', { to: tcp.jid, type: 'chat' }, x('body', {}, 'from the web')));
      await tcp.next(is.message(jid, 'from the web'), 'the message from alice');
      const ping = await c.iq(
        x('iq', { type: 'get', to: 'localhost' }, x('ping', { xmlns: ns.ping })),
      );
      assert.equal(ping.attrs.type, 'result');
      assert.deepEqual(parseErrors(c), [], c.describe());

      c.close();
      await c.waitClosed();
      assert.deepEqual(shape(c.events).slice(-2), ['end', 'closed'], c.describe());
      assert.equal(c.closeCode, 1000);
    }));

  it('binds SCRAM-*-PLUS to the TLS connection under the WebSocket, and refuses a wrong binding', async () => {
    const c = await wsConnect();
    const features = await c.openStream();
    const cbTypes = features
      .getChild('sasl-channel-binding', 'urn:xmpp:sasl-cb:0')
      ?.getChildren('channel-binding')
      .map((e) => e.attrs.type);
    assert.ok(cbTypes?.includes('tls-server-end-point'), features.toString());
    assert.ok(c.mechanisms().includes('SCRAM-SHA-256-PLUS'));
    const ok = await c.authenticate('carol', PASSWORD, { mechanism: 'SCRAM-SHA-256-PLUS' });
    assert.deepEqual(ok, { ok: true });

    const other = await wsConnect();
    await other.openStream();
    const bad = await other.authenticate('carol', PASSWORD, {
      mechanism: 'SCRAM-SHA-256-PLUS',
      cbType: 'tls-server-end-point',
      cbData: Buffer.alloc(32, 7),
    });
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.condition, 'not-authorized');
  });

  it('answers stanzas before authentication like TCP: not-authorized', async () => {
    const c = await wsConnect();
    await c.openStream();
    c.send(x('message', { to: 'bob@localhost' }, x('body', {}, 'hi')));
    await expectStreamError(c, 'not-authorized');
  });

  it('wants <open/> in the framing namespace first', async () => {
    const c = await wsConnect();
    c.send(x('iq', { xmlns: ns.client, type: 'get', id: '1' }, x('ping', { xmlns: ns.ping })));
    await expectStreamError(c, 'invalid-namespace');
    const old = await wsConnect();
    old.write(
      `<stream:stream xmlns='jabber:client' xmlns:stream='${ns.stream}' to='localhost' version='1.0'>`,
    );
    // An unclosed TCP-style header is not one complete element.
    await expectStreamError(old, 'not-well-formed');
  });

  for (const [label, frame] of [
    [
      'two elements in one message',
      `<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>`,
    ],
    ['half an element', `<message xmlns='jabber:client'><body>hi`],
    ['malformed XML', `<message xmlns='jabber:client'><body>hi</message>`],
    ['text outside an element', 'hello'],
  ] as const) {
    it(`ends the stream on ${label}: not-well-formed, then <close/>; others are unaffected`, async () => {
      const bystander = await wsLogin('bob', `bystander-${label.length}`);
      const c = await wsLogin('alice', `framing-${label.length}`);
      c.write(frame);
      await expectStreamError(c, 'not-well-formed');
      const pong = await bystander.iq(
        x('iq', { type: 'get', to: 'localhost' }, x('ping', { xmlns: ns.ping })),
      );
      assert.equal(pong.attrs.type, 'result');
      bystander.close();
    });
  }

  it('applies the stanza size limit to a message: policy-violation; a far bigger frame is cut at the WebSocket layer', async () => {
    const c = await wsLogin('alice', 'big');
    const body = 'a'.repeat(MAX_STANZA + 100);
    c.write(`<message xmlns='jabber:client' to='bob@localhost'><body>${body}</body></message>`);
    await expectStreamError(c, 'policy-violation');

    const huge = await wsLogin('alice', 'huge');
    huge.write(
      `<message xmlns='jabber:client' to='bob@localhost'><body>${'b'.repeat(MAX_STANZA * 4)}</body></message>`,
    );
    await huge.waitClosed();
    assert.equal(huge.closeCode, 1009, huge.describe());
    const events = await readSecurityEvents(
      server.dataDir,
      (e) => e.rule === 'websocket.frame-size',
      1,
    );
    assert.equal(events[0]?.threat, 'T5');
  });

  it('shares the brute-force guard with TCP: after failures on both, even the right password waits', async () => {
    const localAddress = '127.0.0.10';
    const attempt = async (viaWs: boolean, password: string) => {
      const c = viaWs
        ? await wsConnect({ localAddress })
        : await RawClient.connect({ port: server.ports.c2sTls, directTls: true, localAddress });
      await c.openStream();
      const r = await c.authenticate('carol', password);
      c.destroy();
      return r;
    };
    for (let i = 0; i < 6; i++) {
      const r = await attempt(i % 2 === 0, 'wrong password');
      assert.equal(r.ok, false);
    }
    const locked = await attempt(true, PASSWORD);
    assert.equal(!locked.ok && locked.condition, 'temporary-auth-failure');
    const events = await readSecurityEvents(server.dataDir, (e) => e.rule === 'auth.locked', 1);
    assert.equal(events[0]?.address, localAddress);
  });

  it('paces a burst with the session rate limit like TCP: reading pauses, nothing is lost', async () => {
    const localAddress = '127.0.0.11';
    const c = await WsClient.login({
      port: server.ports.https,
      username: 'bob',
      password: PASSWORD,
      resource: 'burst',
      localAddress,
    });
    open.push(c);
    // More pings than the stanza bucket holds (burst 200, then 50/s).
    const ids = Array.from({ length: 260 }, (_, i) => `burst-${i}`);
    for (const id of ids)
      c.send(x('iq', { type: 'get', id, to: 'localhost' }, x('ping', { xmlns: ns.ping })));
    const answered: string[] = [];
    for (const id of ids) {
      const r = await c.next(
        (e) => e.name === 'iq' && e.attrs.id === id,
        `the answer to ${id}`,
        10_000,
      );
      assert.equal(r.attrs.type, 'result');
      answered.push(id);
    }
    assert.deepEqual(answered, ids);
    const events = await readSecurityEvents(
      server.dataDir,
      (e) => e.rule === 'rate.stanzas' && e.address === localAddress,
      1,
    );
    assert.equal(events[0]?.verdict, 'delay');
  });

  it('refuses binary messages (RFC 7395 §3.2) with close code 1003', async () => {
    const c = await wsConnect();
    await c.openStream();
    c.sendBinary(Buffer.from(`<open xmlns='${NS_FRAMING}' to='localhost' version='1.0'/>`));
    await c.waitClosed();
    assert.equal(c.closeCode, 1003);
  });
});

describe('WebSocket upgrade', () => {
  it("requires the 'xmpp' subprotocol", async () => {
    for (const protocols of [[], ['chat'], ['mqtt', 'xmpp-legacy']]) {
      const r = await refusal(wsConnect({ protocols }));
      assert.equal(r.status, 400);
      assert.match(r.body, /subprotocol 'xmpp'/);
    }
    const c = await wsConnect({ protocols: ['chat', 'xmpp'] });
    assert.equal(c.protocol, 'xmpp');
    c.destroy();
  });

  it('refuses pages from foreign origins with 403 and a T4 event; allows its own, listed and non-browser clients', async () => {
    const r = await refusal(wsConnect({ origin: 'https://evil.example.com' }));
    assert.equal(r.status, 403);
    assert.match(r.body, /evil\.example\.com may not connect/);
    const events = await readSecurityEvents(
      server.dataDir,
      (e) => e.rule === 'websocket.origin',
      1,
    );
    assert.equal(events[0]?.threat, 'T4');
    assert.equal(events[0]?.verdict, 'refuse');
    assert.match(events[0]?.evidence ?? '', /evil\.example\.com/);
    for (const origin of ['null', 'http://localhost', 'https://app.example.net.evil.com']) {
      assert.equal((await refusal(wsConnect({ origin }))).status, 403, origin);
    }
    for (const origin of [
      undefined,
      'https://localhost',
      `https://localhost:${server.ports.https + 1}`,
      'https://app.example.net',
    ]) {
      const c = await wsConnect(origin === undefined ? {} : { origin });
      await c.openStream();
      c.destroy();
    }
  });

  it('counts WebSocket and TCP connections together against max_connections_per_address', async () => {
    const localAddress = '127.0.0.9';
    const held: RawClient[] = [];
    for (let i = 0; i < CONN_CAP; i++) {
      held.push(
        i % 2 === 0
          ? await RawClient.connect({ port: server.ports.c2s, localAddress })
          : await wsConnect({ localAddress }),
      );
    }
    open.push(...held);
    const r = await refusal(wsConnect({ localAddress }));
    assert.equal(r.status, 429);
    const events = await readSecurityEvents(
      server.dataDir,
      (e) => e.rule === 'connections.per-address' && e.address === localAddress,
      1,
    );
    assert.match(events[0]?.evidence ?? '', /websocket/);
    held[1]!.destroy();
    await held[1]!.waitClosed();
    await new Promise((r) => setTimeout(r, 100));
    const again = await wsConnect({ localAddress });
    await again.openStream();
    for (const c of [...held, again]) c.destroy();
  });

  it('answers other paths with 404', async () => {
    const r = await refusal(wsConnect({ path: '/ws' }));
    assert.equal(r.status, 404);
  });
});

describe('XEP-0156 discovery', () => {
  it('announces the wss URL in host-meta (XRD) and host-meta.json, from the Host header', async () => {
    const xrd = await httpsGet('/.well-known/host-meta', { host: 'chat.example.org:5443' });
    assert.equal(xrd.status, 200);
    assert.match(String(xrd.headers['content-type']), /^application\/xrd\+xml/);
    assert.equal(xrd.headers['access-control-allow-origin'], '*');
    assert.match(
      xrd.body,
      /<Link rel='urn:xmpp:alt-connections:websocket' href='wss:\/\/chat\.example\.org:5443\/xmpp-websocket'\/>/,
    );
    const json = await httpsGet('/.well-known/host-meta.json', { host: 'chat.example.org:5443' });
    assert.equal(json.status, 200);
    assert.deepEqual(JSON.parse(json.body), {
      links: [
        {
          rel: 'urn:xmpp:alt-connections:websocket',
          href: 'wss://chat.example.org:5443/xmpp-websocket',
        },
      ],
    });
    // A Host header that is not a host name is not echoed into the document.
    const odd = await httpsGet('/.well-known/host-meta.json', { host: "x'/><evil" });
    assert.equal(
      (JSON.parse(odd.body) as { links: { href: string }[] }).links[0]?.href,
      `wss://localhost:${server.ports.https}/xmpp-websocket`,
    );
  });
});
