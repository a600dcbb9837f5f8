import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { is, ns, RawClient, stanzaErrorOf, type XmlElement, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/**
 * RFC 6120 §8 stanza semantics and RFC 6121 (roster, subscriptions, presence) on the wire,
 * plus the server's own services (disco, ping, version). Each test uses its own accounts so
 * that order does not matter.
 */

const PASSWORD = 'stanza tests 1';
const D = 'localhost';
const USERS = [
  'alice',
  'bob',
  'carol',
  'pinger',
  'watcher',
  'rita',
  'sam',
  'tess',
  'uma',
  'vic',
  'wes',
  'xena',
  'kim',
  'lee',
  'yan',
  'zoe',
  'ivan',
  'trent',
  'mallory',
  'olga',
  'pete',
];
/** Mutual `both` subscriptions provisioned with `rampart roster import`. */
const CONTACTS: [string, string][] = [
  ['alice', 'bob'],
  ['pinger', 'watcher'],
  ['yan', 'zoe'],
  ['ivan', 'trent'],
  ['kim', 'lee'],
];

let server: RampartProcess;
const clients: RawClient[] = [];

async function login(username: string, resource?: string, answerPings = true): Promise<RawClient> {
  const c = await RawClient.login({
    port: server.ports.c2sTls,
    directTls: true,
    username,
    password: PASSWORD,
    answerPings,
    ...(resource === undefined ? {} : { resource }),
  });
  clients.push(c);
  return c;
}

const bare = (u: string) => `${u}@${D}`;

/** Sends initial presence and waits until the server has processed it (a ping round trip). */
async function available(c: RawClient, status?: string): Promise<void> {
  c.send(x('presence', {}, status ? x('status', {}, status) : undefined));
  await ping(c);
}

async function ping(c: RawClient): Promise<void> {
  const r = await c.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: ns.ping })));
  assert.equal(r.attrs.type, 'result');
}

async function rosterGet(c: RawClient, ver?: string): Promise<XmlElement> {
  const r = await c.iq(x('iq', { type: 'get' }, x('query', { xmlns: ns.roster, ver })));
  assert.equal(r.attrs.type, 'result', r.toString());
  return r;
}

/** The item of the next roster push about `jid`. */
async function pushFor(c: RawClient, jid: string): Promise<XmlElement> {
  const push = await c.next(is.rosterPush(jid), `a roster push about ${jid} to ${c.jid}`);
  assert.equal(push.attrs.from, undefined, 'a push comes from the user’s own account (no from)');
  c.send(x('iq', { type: 'result', id: push.attrs.id }));
  return push.getChild('query', ns.roster)!.getChild('item')!;
}

function errorOf(el: XmlElement): string | undefined {
  return stanzaErrorOf(el);
}

before(async () => {
  server = await startRampart({
    config: '[limits]\nping_interval_s = 1\nping_timeout_s = 1\n',
  });
  const users = await server.cli(
    ['user', 'import', '-'],
    USERS.map((u) => `${bare(u)},${PASSWORD}`).join('\n'),
  );
  assert.equal(users.code, 0, users.stderr);
  const roster = await server.cli(
    ['roster', 'import', '-'],
    CONTACTS.map(([a, b]) => `${bare(a)},${bare(b)}`).join('\n'),
  );
  assert.equal(roster.code, 0, roster.stderr);
});

after(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
});

describe('addressing (RFC 6120 §8.1)', () => {
  it('stamps `from` with the sender’s full JID, also when the client gave its bare JID', async () => {
    const alice = await login('alice', 'a1');
    const bob = await login('bob', 'b1');
    await available(bob);
    alice.send(x('message', { to: bare('bob'), type: 'chat' }, x('body', {}, 'one')));
    alice.send(
      x('message', { to: bare('bob'), from: bare('alice'), type: 'chat' }, x('body', {}, 'two')),
    );
    for (const body of ['one', 'two']) {
      const m = await bob.next(is.message(undefined, body), `message ${body}`);
      assert.equal(m.attrs.from, 'alice@localhost/a1');
    }
  });

  const forgeries = [
    ['another user', 'carol@localhost/x'],
    ['another resource of the same account', 'alice@localhost/not-me'],
    ['the server', 'localhost'],
    ['a malformed JID', 'a@b@c'],
  ];
  for (const [what, from] of forgeries) {
    it(`closes the stream with <invalid-from/> for a from of ${what}; nothing is routed`, async () => {
      const alice = await login('alice');
      const bob = await login('bob');
      await available(bob);
      alice.send(
        x('message', { to: bare('bob'), from, type: 'chat' }, x('body', {}, `forged ${what}`)),
      );
      const err = await alice.streamError();
      assert.equal(err.condition, 'invalid-from');
      await alice.waitClosed();
      await bob.expectNone(is.message(), 'the forged message', 500);
    });
  }

  it('answers a `to` that is not a JID with <jid-malformed/>', async () => {
    const alice = await login('alice');
    for (const to of ['a@b@c', '@localhost', 'bob@localhost/', 'bob@', 'bob@local host']) {
      const id = `m-${to}`;
      alice.send(x('message', { to, id, type: 'chat' }, x('body', {}, 'x')));
      const reply = await alice.next((e) => e.attrs.id === id, `error for to=${to}`);
      assert.equal(errorOf(reply), 'jid-malformed', reply.toString());
    }
    const iq = await alice.iq(x('iq', { type: 'get', to: 'a@b@c' }, x('ping', { xmlns: ns.ping })));
    assert.equal(errorOf(iq), 'jid-malformed');
  });

  it('answers a stanza to a remote domain with <remote-server-not-found/> (federation is off)', async () => {
    const alice = await login('alice');
    alice.send(x('message', { to: 'romeo@example.net', id: 'r1' }, x('body', {}, 'hi')));
    const m = await alice.next((e) => e.attrs.id === 'r1', 'message error');
    assert.equal(errorOf(m), 'remote-server-not-found');
    assert.equal(m.attrs.from, 'romeo@example.net');
    const iq = await alice.iq(
      x('iq', { type: 'get', to: 'example.net' }, x('query', { xmlns: ns.discoInfo })),
    );
    assert.equal(errorOf(iq), 'remote-server-not-found');
    alice.send(x('presence', { to: 'romeo@example.net', type: 'subscribe', id: 's1' }));
    const p = await alice.next((e) => e.attrs.id === 's1', 'presence error');
    assert.equal(errorOf(p), 'remote-server-not-found');
  });

  it('answers a message to a local account that does not exist with <service-unavailable/>', async () => {
    const alice = await login('alice');
    alice.send(
      x('message', { to: 'nobody@localhost', id: 'n1', type: 'chat' }, x('body', {}, 'x')),
    );
    const m = await alice.next((e) => e.attrs.id === 'n1', 'message error');
    assert.equal(errorOf(m), 'service-unavailable');
    // Error replies keep the original payload (RFC 6120 §8.3.1).
    assert.equal(m.getChildText('body'), 'x');
  });
});

describe('iq semantics (RFC 6120 §8.2.3)', () => {
  it('answers an iq without an id with <bad-request/>', async () => {
    const c = await login('carol');
    c.send("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    const reply = await c.next((e) => e.name === 'iq' && e.attrs.type === 'error', 'iq error');
    assert.equal(errorOf(reply), 'bad-request');
  });

  it('answers a get with two payloads, or none, with <bad-request/>', async () => {
    const c = await login('carol');
    const two = await c.iq(
      x(
        'iq',
        { type: 'get', to: D },
        x('ping', { xmlns: ns.ping }),
        x('query', { xmlns: ns.version }),
      ),
    );
    assert.equal(errorOf(two), 'bad-request');
    const none = await c.iq(x('iq', { type: 'get', to: D }));
    assert.equal(errorOf(none), 'bad-request');
    const badType = await c.iq(x('iq', { type: 'fetch', to: D }, x('ping', { xmlns: ns.ping })));
    assert.equal(errorOf(badType), 'bad-request');
  });

  it('answers an unknown payload with <service-unavailable/> (server, own account, others)', async () => {
    const c = await login('carol');
    for (const to of [D, bare('carol'), bare('alice'), undefined]) {
      const r = await c.iq(x('iq', { type: 'get', to }, x('query', { xmlns: 'urn:example:nope' })));
      assert.equal(errorOf(r), 'service-unavailable', `to=${to}: ${r.toString()}`);
      assert.equal(r.getChild('query'), undefined, 'an iq error does not echo the payload');
    }
    const set = await c.iq(x('iq', { type: 'set', to: D }, x('query', { xmlns: ns.version })));
    assert.equal(errorOf(set), 'service-unavailable');
  });

  it('does not answer an iq result or error with an error (no loops)', async () => {
    const c = await login('carol');
    c.send(x('iq', { type: 'result', id: 'stray', to: D }));
    c.send(
      x(
        'iq',
        { type: 'error', id: 'stray2', to: D },
        x('error', { type: 'cancel' }, x('item-not-found', { xmlns: ns.stanzaErrors })),
      ),
    );
    await c.expectNone((e) => e.attrs.id === 'stray' || e.attrs.id === 'stray2', 'a reply', 400);
    await ping(c);
  });
});

describe('server services', () => {
  it('disco#info: a server/im identity and the features it implements (XEP-0030)', async () => {
    const c = await login('carol');
    const r = await c.iq(x('iq', { type: 'get', to: D }, x('query', { xmlns: ns.discoInfo })));
    assert.equal(r.attrs.type, 'result', r.toString());
    assert.equal(r.attrs.from, D);
    const q = r.getChild('query', ns.discoInfo)!;
    const identity = q.getChild('identity')!;
    assert.equal(identity.attrs.category, 'server');
    assert.equal(identity.attrs.type, 'im');
    const features = q.getChildren('feature').map((f) => f.attrs.var);
    for (const f of [ns.discoInfo, ns.ping, ns.version, ns.last])
      assert.ok(features.includes(f), `${f} in ${features}`);
    const node = await c.iq(
      x('iq', { type: 'get', to: D }, x('query', { xmlns: ns.discoInfo, node: 'nope' })),
    );
    assert.equal(errorOf(node), 'item-not-found');
  });

  it('software version: name and version, no operating system (XEP-0092, T6)', async () => {
    const c = await login('carol');
    const r = await c.iq(x('iq', { type: 'get', to: D }, x('query', { xmlns: ns.version })));
    const q = r.getChild('query', ns.version)!;
    assert.equal(q.getChildText('name'), 'Rampart');
    assert.match(q.getChildText('version') ?? '', /^\d+\.\d+/);
    assert.equal(q.getChild('os'), undefined, 'the OS is not disclosed');
  });

  it('answers a client ping (XEP-0199)', async () => {
    const c = await login('carol');
    const r = await c.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: ns.ping })));
    assert.equal(r.attrs.type, 'result');
    assert.equal(r.attrs.from, D);
    assert.equal(r.elements().length, 0);
  });

  it('pings a silent client; no answer ends it with <connection-timeout/> and contacts see it leave', async () => {
    const watcher = await login('watcher', 'w');
    await rosterGet(watcher);
    await available(watcher);
    const pinger = await login('pinger', 'silent', false);
    await available(pinger);
    await watcher.next(is.presence('pinger@localhost/silent'), 'pinger online', 3000);

    const serverPing = await pinger.next(
      (e) => e.name === 'iq' && e.getChild('ping', ns.ping) !== undefined,
      'a ping from the server',
      6000,
    );
    assert.equal(serverPing.attrs.type, 'get');
    assert.equal(serverPing.attrs.from, D);
    assert.equal(serverPing.attrs.to, 'pinger@localhost/silent');
    assert.ok(serverPing.attrs.id);

    const err = await pinger.streamError(6000);
    assert.equal(err.condition, 'connection-timeout');
    await pinger.waitClosed();
    const gone = await watcher.next(
      is.presence('pinger@localhost/silent', 'unavailable'),
      'unavailable presence of the dead session',
      3000,
    );
    assert.ok(['watcher@localhost', 'watcher@localhost/w'].includes(gone.attrs.to ?? ''));
    // The watcher answered its pings all along and is still connected.
    assert.ok(watcher.pingsAnswered > 0, 'the server pinged the watcher too');
    assert.equal(watcher.isClosed, false);
    await ping(watcher);
  });
});

describe('roster (RFC 6121 §2)', () => {
  it('get, set with push to interested resources, versioning, remove', async () => {
    const r1 = await login('rita', 'one');
    const r2 = await login('rita', 'two');
    const r3 = await login('rita', 'uninterested');
    const first = await rosterGet(r1);
    await rosterGet(r2);
    const ver0 = first.getChild('query', ns.roster)?.attrs.ver;
    assert.ok(ver0 !== undefined, 'the server supports versioning and says so');
    assert.ok(r1.features?.getChild('ver', 'urn:xmpp:features:rosterver'), 'stream feature');

    const set = await r1.iq(
      x(
        'iq',
        { type: 'set' },
        x(
          'query',
          { xmlns: ns.roster },
          // A client cannot set the subscription state: the server keeps it (§2.1.2.5).
          x(
            'item',
            { jid: bare('olga'), name: 'Olga', subscription: 'both' },
            x('group', {}, 'Friends'),
          ),
        ),
      ),
    );
    assert.equal(set.attrs.type, 'result', set.toString());
    const items = [await pushFor(r1, bare('olga')), await pushFor(r2, bare('olga'))];
    for (const item of items) {
      assert.equal(item.attrs.name, 'Olga');
      assert.equal(item.attrs.subscription, 'none');
      assert.equal(item.getChildText('group'), 'Friends');
    }
    await r3.expectNone(
      is.rosterPush(),
      'a push to a resource that never asked for the roster',
      300,
    );

    const full = await rosterGet(r1);
    const q = full.getChild('query', ns.roster)!;
    const ver1 = q.attrs.ver;
    assert.notEqual(ver1, ver0);
    assert.deepEqual(
      q.getChildren('item').map((i) => i.attrs.jid),
      [bare('olga')],
    );
    // Same version: an empty result, the client's copy is current (§2.6.3).
    const same = await rosterGet(r1, ver1);
    assert.equal(same.elements().length, 0, same.toString());
    // Older version: the whole roster again.
    const older = await rosterGet(r1, ver0);
    assert.equal(older.getChild('query', ns.roster)?.getChildren('item').length, 1);

    const removed = await r1.iq(
      x(
        'iq',
        { type: 'set' },
        x('query', { xmlns: ns.roster }, x('item', { jid: bare('olga'), subscription: 'remove' })),
      ),
    );
    assert.equal(removed.attrs.type, 'result');
    const gone = await pushFor(r2, bare('olga'));
    assert.equal(gone.attrs.subscription, 'remove');
    const empty = await rosterGet(r1);
    assert.equal(empty.getChild('query', ns.roster)?.getChildren('item').length, 0);

    const again = await r1.iq(
      x(
        'iq',
        { type: 'set' },
        x('query', { xmlns: ns.roster }, x('item', { jid: bare('olga'), subscription: 'remove' })),
      ),
    );
    assert.equal(errorOf(again), 'item-not-found');
  });

  it('refuses malformed roster sets', async () => {
    const r = await login('rita');
    const two = await r.iq(
      x(
        'iq',
        { type: 'set' },
        x(
          'query',
          { xmlns: ns.roster },
          x('item', { jid: bare('a') }),
          x('item', { jid: bare('b') }),
        ),
      ),
    );
    assert.equal(errorOf(two), 'bad-request');
    const noJid = await r.iq(
      x('iq', { type: 'set' }, x('query', { xmlns: ns.roster }, x('item', {}))),
    );
    assert.equal(errorOf(noJid), 'bad-request');
    const badJid = await r.iq(
      x('iq', { type: 'set' }, x('query', { xmlns: ns.roster }, x('item', { jid: 'a@b@c' }))),
    );
    assert.equal(errorOf(badJid), 'jid-malformed');
  });

  it("does not hand one user's roster to another", async () => {
    const mallory = await login('mallory');
    const r = await mallory.iq(
      x('iq', { type: 'get', to: bare('rita') }, x('query', { xmlns: ns.roster })),
    );
    assert.equal(r.attrs.type, 'error', r.toString());
    assert.equal(r.getChild('query'), undefined);
    const set = await mallory.iq(
      x(
        'iq',
        { type: 'set', to: bare('rita') },
        x('query', { xmlns: ns.roster }, x('item', { jid: bare('mallory') })),
      ),
    );
    assert.equal(set.attrs.type, 'error');
  });
});

describe('presence subscriptions (RFC 6121 §3, Appendix A)', () => {
  it('subscribe, approve, presence flows; unsubscribe; cancel', async () => {
    const sam = await login('sam', 's');
    const tess = await login('tess', 't');
    for (const c of [sam, tess]) {
      await rosterGet(c);
      await available(c);
    }

    // §3.1.1-3.1.2: sam asks; sam's roster shows the pending request; tess is asked.
    sam.send(x('presence', { to: bare('tess'), type: 'subscribe' }));
    const asked = await pushFor(sam, bare('tess'));
    assert.equal(asked.attrs.subscription, 'none');
    assert.equal(asked.attrs.ask, 'subscribe');
    const request = await tess.next(is.presence(undefined, 'subscribe'), 'subscription request');
    assert.equal(request.attrs.from, bare('sam'), 'subscription stanzas come from the bare JID');
    // Not approved yet: sam sees nothing of tess (T7).
    await sam.expectNone(is.presence('tess@localhost/t'), 'presence before approval', 300);

    // §3.1.5: tess approves.
    tess.send(x('presence', { to: bare('sam'), type: 'subscribed' }));
    const tessSide = await pushFor(tess, bare('sam'));
    assert.equal(tessSide.attrs.subscription, 'from');
    const approved = await sam.next(is.presence(bare('tess'), 'subscribed'), 'subscribed');
    assert.equal(approved.attrs.from, bare('tess'));
    const samSide = await pushFor(sam, bare('tess'));
    assert.equal(samSide.attrs.subscription, 'to');
    assert.equal(samSide.attrs.ask, undefined);
    // §3.1.6: the contact's current presence follows.
    await sam.next(is.presence('tess@localhost/t'), 'tess presence after approval');
    // And later broadcasts reach sam, but sam's do not reach tess (one direction only).
    tess.send(x('presence', {}, x('show', {}, 'away')));
    const away = await sam.next(is.presence('tess@localhost/t'), 'away broadcast');
    assert.equal(away.getChildText('show'), 'away');
    sam.send(x('presence', {}, x('show', {}, 'dnd')));
    await tess.expectNone(is.presence('sam@localhost/s'), 'sam presence at tess', 300);

    // §3.3: sam unsubscribes: both rosters drop the direction; sam sees tess go.
    sam.send(x('presence', { to: bare('tess'), type: 'unsubscribe' }));
    assert.equal((await pushFor(sam, bare('tess'))).attrs.subscription, 'none');
    await tess.next(is.presence(bare('sam'), 'unsubscribe'), 'unsubscribe at tess');
    assert.equal((await pushFor(tess, bare('sam'))).attrs.subscription, 'none');
    await sam.next(is.presence('tess@localhost/t', 'unavailable'), 'tess unavailable for sam');

    // Subscribe again, approve, then tess cancels (§3.2).
    sam.send(x('presence', { to: bare('tess'), type: 'subscribe' }));
    await pushFor(sam, bare('tess'));
    await tess.next(is.presence(bare('sam'), 'subscribe'), 'second request');
    tess.send(x('presence', { to: bare('sam'), type: 'subscribed' }));
    await pushFor(tess, bare('sam'));
    await pushFor(sam, bare('tess'));
    await sam.next(is.presence(bare('tess'), 'subscribed'), 'subscribed again');
    await sam.next(is.presence('tess@localhost/t'), 'tess presence again');
    tess.send(x('presence', { to: bare('sam'), type: 'unsubscribed' }));
    assert.equal((await pushFor(tess, bare('sam'))).attrs.subscription, 'none');
    await sam.next(is.presence(bare('tess'), 'unsubscribed'), 'cancelled');
    assert.equal((await pushFor(sam, bare('tess'))).attrs.subscription, 'none');
    await sam.next(is.presence('tess@localhost/t', 'unavailable'), 'tess gone after cancel');
    tess.send(x('presence', {}, x('show', {}, 'chat')));
    await sam.expectNone(is.presence('tess@localhost/t'), 'presence after cancel', 300);
  });

  it('pre-approval (§3.4): advertised, shown in the roster, and honoured without asking', async () => {
    const uma = await login('uma', 'u');
    assert.ok(
      uma.features?.getChild('sub', 'urn:xmpp:features:pre-approval'),
      `the pre-approval stream feature (RFC 6121 §3.4.1): ${uma.features?.toString()}`,
    );
    await rosterGet(uma);
    await available(uma);
    uma.send(x('presence', { to: bare('vic'), type: 'subscribed' }));
    const item = await pushFor(uma, bare('vic'));
    assert.equal(item.attrs.subscription, 'none');
    assert.equal(item.attrs.approved, 'true', item.toString());

    const vic = await login('vic', 'v');
    await rosterGet(vic);
    await available(vic);
    vic.send(x('presence', { to: bare('uma'), type: 'subscribe' }));
    await vic.next(is.presence(bare('uma'), 'subscribed'), 'auto-approved');
    await vic.next(is.presence('uma@localhost/u'), 'uma presence');
    const umaSide = await pushFor(uma, bare('vic'));
    assert.equal(umaSide.attrs.subscription, 'from');
    assert.equal(umaSide.attrs.approved, undefined);
    await uma.expectNone(
      is.presence(bare('vic'), 'subscribe'),
      'a request uma already approved',
      300,
    );
  });

  it('a request to an offline contact waits, and is redelivered at each login until answered', async () => {
    const wes = await login('wes');
    await rosterGet(wes);
    await available(wes);
    wes.send(x('presence', { to: bare('xena'), type: 'subscribe' }, x('status', {}, "it's wes")));
    await pushFor(wes, bare('xena'));

    for (let round = 0; round < 2; round++) {
      const xena = await login('xena');
      await available(xena);
      const req = await xena.next(
        is.presence(bare('wes'), 'subscribe'),
        `request, login ${round + 1}`,
      );
      assert.equal(req.getChildText('status'), "it's wes");
      xena.close();
      await xena.waitClosed();
    }
    const xena = await login('xena');
    await available(xena);
    await xena.next(is.presence(bare('wes'), 'subscribe'), 'request, third login');
    xena.send(x('presence', { to: bare('wes'), type: 'subscribed' }));
    await wes.next(is.presence(bare('xena'), 'subscribed'), 'approved');
    xena.close();
    await xena.waitClosed();
    const later = await login('xena');
    await available(later);
    await later.expectNone(is.presence(bare('wes'), 'subscribe'), 'an answered request', 400);
  });

  it('a subscription request to a non-existent account is answered with unsubscribed', async () => {
    const pete = await login('pete');
    await rosterGet(pete);
    await available(pete);
    pete.send(x('presence', { to: 'ghost@localhost', type: 'subscribe' }));
    await pete.next(is.presence('ghost@localhost', 'unsubscribed'), 'unsubscribed from nobody');
  });

  it('removing a contact from the roster cancels both directions (§2.5.2)', async () => {
    const yan = await login('yan', 'y');
    const zoe = await login('zoe', 'z');
    for (const c of [yan, zoe]) {
      const r = await rosterGet(c);
      assert.equal(r.getChild('query', ns.roster)?.getChild('item')?.attrs.subscription, 'both');
      await available(c);
    }
    await yan.next(is.presence('zoe@localhost/z'), 'zoe online');
    await zoe.next(is.presence('yan@localhost/y'), 'yan online');

    const removed = await yan.iq(
      x(
        'iq',
        { type: 'set' },
        x('query', { xmlns: ns.roster }, x('item', { jid: bare('zoe'), subscription: 'remove' })),
      ),
    );
    assert.equal(removed.attrs.type, 'result');
    assert.equal((await pushFor(yan, bare('zoe'))).attrs.subscription, 'remove');
    await zoe.next(is.presence(bare('yan'), 'unsubscribe'), 'unsubscribe');
    await zoe.next(is.presence(bare('yan'), 'unsubscribed'), 'unsubscribed');
    const zoeSide = await zoe.next(
      (e) =>
        is.rosterPush(bare('yan'))(e) &&
        e.getChild('query', ns.roster)?.getChild('item')?.attrs.subscription === 'none',
      'zoe’s roster drops both directions',
    );
    assert.ok(zoeSide);
    await zoe.next(is.presence('yan@localhost/y', 'unavailable'), 'yan gone for zoe');
    await yan.next(is.presence('zoe@localhost/z', 'unavailable'), 'zoe gone for yan');
    yan.send(x('presence', {}, x('show', {}, 'away')));
    zoe.send(x('presence', {}, x('show', {}, 'away')));
    await zoe.expectNone(is.presence('yan@localhost/y'), 'yan presence after removal', 300);
    await yan.expectNone(is.presence('zoe@localhost/z'), 'zoe presence after removal', 300);
  });

  it('a probe or last-activity query from a stranger learns nothing (T7)', async () => {
    const ivan = await login('ivan', 'i');
    await available(ivan, 'secret status');
    const mallory = await login('mallory');
    await available(mallory);
    mallory.send(x('presence', { to: bare('ivan'), type: 'probe' }));
    await mallory.expectNone(is.presence('ivan@localhost/i'), 'ivan presence for a stranger', 400);
    const last = await mallory.iq(
      x('iq', { type: 'get', to: bare('ivan') }, x('query', { xmlns: ns.last })),
    );
    assert.equal(last.attrs.type, 'error');
    assert.equal(last.getChild('query'), undefined);
  });
});

describe('presence lifecycle (RFC 6121 §4)', () => {
  it('a dropped connection ends in unavailable presence to contacts and to directed-presence targets', async () => {
    const lee = await login('lee', 'l');
    await available(lee);
    const stranger = await login('olga', 'o');
    await available(stranger);
    const kim = await login('kim', 'k');
    await available(kim);
    await lee.next(is.presence('kim@localhost/k'), 'kim online at lee');
    // Directed presence to a non-contact (§4.6): delivered, and remembered for the end.
    kim.send(x('presence', { to: 'olga@localhost/o' }, x('status', {}, 'hello olga')));
    const directed = await stranger.next(is.presence('kim@localhost/k'), 'directed presence');
    assert.equal(directed.getChildText('status'), 'hello olga');

    kim.destroy(); // no </stream:stream>, no unavailable: the TCP connection just ends
    await lee.next(is.presence('kim@localhost/k', 'unavailable'), 'unavailable at the contact');
    await stranger.next(
      is.presence('kim@localhost/k', 'unavailable'),
      'unavailable at the directed target',
    );
  });

  it('whitespace keepalives between stanzas are harmless', async () => {
    const c = await login('lee');
    c.write(' ');
    c.write('\n\t ');
    await ping(c);
    c.write('   ');
    await ping(c);
  });
});

describe('iq to a full JID (RFC 6121 §8.5.3, T7)', () => {
  it('reaches the resource from an approved contact, not from a stranger', async () => {
    const ivan = await login('ivan', 'desk');
    await available(ivan);
    const trent = await login('trent');
    const mallory = await login('mallory');

    const fromStranger = await mallory.iq(
      x(
        'iq',
        { type: 'get', to: 'ivan@localhost/desk', id: 'v-stranger' },
        x('query', { xmlns: ns.version }),
      ),
    );
    assert.equal(errorOf(fromStranger), 'service-unavailable');
    // Same answer as for a resource that does not exist: nothing is learnt.
    const missing = await mallory.iq(
      x('iq', { type: 'get', to: 'ivan@localhost/nope' }, x('query', { xmlns: ns.version })),
    );
    assert.equal(errorOf(missing), 'service-unavailable');
    await ivan.expectNone((e) => e.attrs.id === 'v-stranger', 'the stranger’s iq', 300);

    // Positive control: the contact's iq is delivered and its answer routed back.
    trent.send(
      x(
        'iq',
        { type: 'get', to: 'ivan@localhost/desk', id: 'v-contact' },
        x('query', { xmlns: ns.version }),
      ),
    );
    const delivered = await ivan.next((e) => e.attrs.id === 'v-contact', 'the contact’s iq');
    assert.equal(delivered.attrs.from, trent.jid);
    ivan.send(
      x(
        'iq',
        { type: 'result', id: 'v-contact', to: delivered.attrs.from },
        x('query', { xmlns: ns.version }, x('name', {}, 'raw')),
      ),
    );
    const answer = await trent.next((e) => e.attrs.id === 'v-contact', 'the answer');
    assert.equal(answer.attrs.from, 'ivan@localhost/desk');
    assert.equal(answer.getChild('query', ns.version)?.getChildText('name'), 'raw');
  });

  it('messages reach a contact, by full or bare JID (RFC 6121 §8.5)', async () => {
    const ivan = await login('ivan', 'phone');
    await available(ivan);
    const trent = await login('trent');
    trent.send(x('message', { to: 'ivan@localhost/phone', type: 'chat' }, x('body', {}, 'full')));
    trent.send(x('message', { to: bare('ivan'), type: 'chat' }, x('body', {}, 'bare')));
    await ivan.next(is.message(bare('trent'), 'full'), 'to full JID');
    await ivan.next(is.message(bare('trent'), 'bare'), 'to bare JID');
  });
});
