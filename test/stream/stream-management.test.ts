import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStorage } from '../../src/storage/open.ts';
import { ackedCount, InboundCounter, parseH } from '../../src/stream/stream-management.ts';
import { is, ns, RawClient, type XmlElement, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/**
 * XEP-0198 stream management on the wire: enabling, acks both ways, resumption with replay of
 * exactly what the client did not ack, hibernation ending in offline storage, and the errors
 * of §4-§6. Each test uses its own accounts.
 */

const SM = 'urn:xmpp:sm:3';
const PASSWORD = 'stream management 1';
const D = 'localhost';
const bare = (u: string) => `${u}@${D}`;
const USERS = [
  'ann',
  'ben',
  'cat',
  'dan',
  'eve',
  'fay',
  'gus',
  'hal',
  'ida',
  'jon',
  'kay',
  'lee',
  'mia',
];

let server: RampartProcess;
const clients: RawClient[] = [];

const isSm = (name: string) => (e: XmlElement) => e.name === name && e.xmlns === SM;

async function login(username: string, resource = 'r1'): Promise<RawClient> {
  const c = await RawClient.login({
    port: server.ports.c2sTls,
    directTls: true,
    username,
    password: PASSWORD,
    resource,
  });
  clients.push(c);
  return c;
}

/** Authenticated, stream restarted, not bound: where <resume/> is sent. */
async function authenticated(username: string): Promise<RawClient> {
  const c = await RawClient.connect({ port: server.ports.c2sTls, directTls: true });
  clients.push(c);
  c.answerPings = true;
  await c.openStream();
  const outcome = await c.authenticate(username, PASSWORD);
  assert.ok(outcome.ok);
  await c.openStream();
  return c;
}

async function enable(c: RawClient, resume = true): Promise<XmlElement> {
  c.send(x('enable', { xmlns: SM, resume: resume ? 'true' : undefined }));
  return c.next(isSm('enabled'), '<enabled/>');
}

async function ping(c: RawClient): Promise<void> {
  const r = await c.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: ns.ping })));
  assert.equal(r.attrs.type, 'result');
}

async function available(c: RawClient): Promise<void> {
  c.send(x('presence'));
  await ping(c);
}

function chat(to: string, body: string): XmlElement {
  return x('message', { to, type: 'chat' }, x('body', {}, body));
}

/** Bodies of the messages received (and not yet consumed) from `from`. */
async function bodies(c: RawClient, from: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++)
    out.push((await c.next(is.message(from), `message ${i + 1}`)).getChildText('body')!);
  return out;
}

/**
 * What the client's h is once it handled everything received after `enabled` up to and
 * including `last`: the stanzas (not nonzas) among them, as XEP-0198 counts.
 */
function handledUpTo(c: RawClient, enabled: XmlElement, last: XmlElement): number {
  const els = c.events.flatMap((e) => (e.kind === 'element' ? [e.el] : []));
  const from = els.indexOf(enabled);
  const to = els.indexOf(last);
  assert.ok(from !== -1 && to > from);
  return els
    .slice(from + 1, to + 1)
    .filter((e) => ['message', 'presence', 'iq'].includes(e.name) && e.xmlns === ns.client).length;
}

/** Acks everything up to `last`, then closes the stream cleanly. */
async function ackAndLeave(c: RawClient, enabled: XmlElement, last: XmlElement): Promise<void> {
  c.send(x('a', { xmlns: SM, h: String(handledUpTo(c, enabled, last)) }));
  await ping(c);
  c.close();
  await c.waitClosed();
}

/** A new login of `username` gets no message from `from` (nothing acked comes back). */
async function expectNothingAtLogin(username: string, resource: string, from: string) {
  const c = await login(username, resource);
  await available(c);
  await c.expectNone(is.message(bare(from)), 'a message acked before', 500);
}

before(async () => {
  server = await startRampart({
    config:
      '[stream_management]\nresume_timeout_s = 2\nrequest_every = 3\nrequest_after_ms = 300\n',
  });
  const r = await server.cli(
    ['user', 'import', '-'],
    USERS.map((u) => `${bare(u)},${PASSWORD}`).join('\n'),
  );
  assert.equal(r.code, 0, r.stderr);
  // Contacts: a stranger's message would wait as a contact request (T1) instead of arriving.
  const pairs = [
    ['eve', 'fay'],
    ['ben', 'cat'],
    ['jon', 'ida'],
    ['jon', 'kay'],
    ['jon', 'cat'],
    ['lee', 'mia'],
  ];
  const roster = await server.cli(
    ['roster', 'import', '-'],
    pairs.map(([a, b]) => `${bare(a!)},${bare(b!)}\n`).join(''),
  );
  assert.equal(roster.code, 0, roster.stderr);
});

after(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
});

describe('counters (XEP-0198 §4)', () => {
  it('h wraps around at 2^32', () => {
    assert.equal(ackedCount(5, 2), 3);
    assert.equal(ackedCount(0, 0xffffffff), 1);
    assert.equal(ackedCount(2, 0xfffffffe), 4);
    assert.equal(parseH('4294967295'), 0xffffffff);
    assert.equal(parseH('4294967296'), undefined);
    assert.equal(parseH('-1'), undefined);
    assert.equal(parseH('1e3'), undefined);
  });

  it('counts a stanza as handled only when its handling, and that of all before it, finished', () => {
    const counter = new InboundCounter();
    const acks: number[] = [];
    const first = counter.begin();
    const second = counter.begin();
    counter.afterHandled(() => acks.push(counter.h));
    counter.end(second);
    assert.equal(counter.h, 0, 'the first is still being stored');
    assert.deepEqual(acks, []);
    counter.end(first);
    assert.equal(counter.h, 2);
    assert.deepEqual(acks, [2]);
  });
});

describe('enabling and acks', () => {
  it('is offered after authentication only; <enable/> before binding fails; then enables', async () => {
    const c = await RawClient.connect({ port: server.ports.c2sTls, directTls: true });
    clients.push(c);
    const before = await c.openStream();
    assert.equal(before.getChild('sm', SM), undefined, 'not offered before authentication');
    assert.ok((await c.authenticate('ann', PASSWORD)).ok);
    const features = await c.openStream();
    assert.ok(features.getChild('sm', SM), `offered after authentication: ${features}`);
    c.send(x('enable', { xmlns: SM, resume: 'true' }));
    const failed = await c.next(isSm('failed'), '<failed/>');
    assert.ok(failed.getChild('unexpected-request', ns.stanzaErrors), failed.toString());
    await c.bind('r1');
    const enabled = await enable(c);
    assert.equal(enabled.attrs.resume, 'true');
    assert.equal(enabled.attrs.max, '2');
    assert.ok((enabled.attrs.id ?? '').length >= 20, 'an unguessable resumption id');
    c.send(x('enable', { xmlns: SM }));
    const again = await c.next(isSm('failed'), 'a second <failed/>');
    assert.ok(again.getChild('unexpected-request', ns.stanzaErrors));
    await ping(c);
  });

  it('answers <r/> with the stanzas handled, and asks for acks after `request_every` stanzas', async () => {
    const ben = await login('ben');
    const cat = await login('cat');
    await enable(ben, false);
    for (let i = 1; i <= 2; i++) ben.send(chat(`${bare('cat')}/r1`, `hi ${i}`));
    ben.send(x('r', { xmlns: SM }));
    const a = await ben.next(isSm('a'), '<a/>');
    assert.equal(a.attrs.h, '2');
    assert.deepEqual(await bodies(cat, bare('ben'), 2), ['hi 1', 'hi 2']);

    for (let i = 1; i <= 3; i++) cat.send(chat(`${bare('ben')}/r1`, `back ${i}`));
    assert.deepEqual(await bodies(ben, bare('cat'), 3), ['back 1', 'back 2', 'back 3']);
    await ben.next(isSm('r'), 'the server asks for an ack after 3 stanzas');
    ben.send(x('a', { xmlns: SM, h: '3' }));
    // One more stanza: no request at once, but within request_after_ms.
    cat.send(chat(`${bare('ben')}/r1`, 'back 4'));
    await ben.next(is.message(bare('cat'), 'back 4'), 'back 4');
    await ben.next(isSm('r'), 'a request after request_after_ms', 2000);
  });

  it('an ack for more stanzas than were sent ends the stream (handled-count-too-high)', async () => {
    const dan = await login('dan');
    await enable(dan, false);
    await ping(dan); // one stanza (the ping result) sent to dan
    dan.send(x('a', { xmlns: SM, h: '5' }));
    const err = await dan.next((e) => e.name === 'error' && e.xmlns === ns.stream, 'stream error');
    assert.ok(err.getChild('undefined-condition', ns.streamErrors), err.toString());
    const app = err.getChild('handled-count-too-high', SM);
    assert.ok(app, err.toString());
    assert.equal(app.attrs.h, '5');
    assert.equal(app.attrs['send-count'], '1');
    assert.match(err.getChildText('text', ns.streamErrors) ?? '', /acknowledged/);
    await dan.waitClosed();
  });
});

describe('resumption (XEP-0198 §5)', () => {
  it('replays exactly the stanzas the client did not ack; presence stays available meanwhile', async () => {
    const fay = await login('fay');
    await fay.iq(x('iq', { type: 'get' }, x('query', { xmlns: ns.roster })));
    await available(fay);
    const eve = await login('eve');
    const enabled = await enable(eve);
    await available(eve); // eve sent 2 stanzas after <enabled/>: presence and ping
    await fay.next(is.presence(`${bare('eve')}/r1`), 'eve online');
    for (let i = 1; i <= 5; i++) fay.send(chat(`${bare('eve')}/r1`, `m${i}`));
    const received: XmlElement[] = [];
    for (let i = 1; i <= 5; i++) received.push(await eve.next(is.message(bare('fay')), `m${i}`));
    assert.deepEqual(
      received.map((m) => m.getChildText('body')),
      ['m1', 'm2', 'm3', 'm4', 'm5'],
    );
    // eve handled everything up to m3 (fay's presence and its own ping result included).
    const handled = handledUpTo(eve, enabled, received[2]!);
    eve.destroy(); // the connection drops without </stream:stream>
    await eve.waitClosed();
    fay.send(chat(`${bare('eve')}/r1`, 'm6'));
    await fay.expectNone(is.presence(`${bare('eve')}/r1`, 'unavailable'), 'eve unavailable', 500);

    const again = await authenticated('eve');
    again.send(x('resume', { xmlns: SM, previd: enabled.attrs.id, h: String(handled) }));
    const resumed = await again.next(isSm('resumed'), '<resumed/>');
    assert.equal(resumed.attrs.previd, enabled.attrs.id);
    assert.equal(resumed.attrs.h, '2', 'the server handled eve’s presence and ping');
    assert.deepEqual(await bodies(again, bare('fay'), 3), ['m4', 'm5', 'm6']);
    await again.expectNone(is.message(bare('fay')), 'a message sent twice', 300);
    await ping(again);
    fay.send(chat(`${bare('eve')}/r1`, 'm7'));
    await again.next(is.message(bare('fay'), 'm7'), 'a message after resumption');
    await fay.expectNone(is.presence(`${bare('eve')}/r1`, 'unavailable'), 'eve unavailable', 200);
  });

  it('fails with <item-not-found/> for an unknown id or another account’s id; binding still works', async () => {
    const gus = await login('gus');
    const enabled = await enable(gus);
    gus.destroy();
    await gus.waitClosed();

    const hal = await authenticated('hal');
    hal.send(x('resume', { xmlns: SM, previd: enabled.attrs.id, h: '0' }));
    const failed = await hal.next(isSm('failed'), '<failed/>');
    assert.ok(failed.getChild('item-not-found', ns.stanzaErrors), failed.toString());
    hal.send(x('resume', { xmlns: SM, previd: 'no-such-session', h: '0' }));
    const unknown = await hal.next(isSm('failed'), '<failed/>');
    assert.ok(unknown.getChild('item-not-found', ns.stanzaErrors));
    assert.equal(await hal.bind('h1'), `${bare('hal')}/h1`);

    // The attempt left gus's session alone: gus can still resume it.
    const back = await authenticated('gus');
    back.send(x('resume', { xmlns: SM, previd: enabled.attrs.id, h: '0' }));
    await back.next(isSm('resumed'), '<resumed/>');
    const storage = openStorage({ dataDir: server.dataDir });
    try {
      const events = await storage.events.list({ rule: 'sm.resume-foreign-session' });
      assert.ok(
        events.some((e) => e.actor === bare('hal') && e.target === bare('gus')),
        JSON.stringify(events),
      );
    } finally {
      await storage.close();
    }
  });

  it('after resume_timeout_s the session ends: unacked messages go offline and arrive once', async () => {
    const ida = await login('ida');
    const jon = await login('jon');
    await enable(ida);
    await available(ida);
    jon.send(chat(bare('ida'), 'before the drop'));
    await ida.next(is.message(bare('jon'), 'before the drop'), 'the first message');
    ida.destroy(); // read, never acked
    await ida.waitClosed();
    jon.send(chat(bare('ida'), 'during the outage'));
    await ping(jon);
    await new Promise((r) => setTimeout(r, 2600)); // resume_timeout_s = 2

    const next = await login('ida', 'r2');
    await available(next);
    const got = await bodies(next, bare('jon'), 2);
    assert.deepEqual(got, ['before the drop', 'during the outage']);
    await next.expectNone(is.message(bare('jon')), 'a duplicate', 400);
    next.close();
    await next.waitClosed();
    const later = await login('ida', 'r3');
    await available(later);
    await later.expectNone(is.message(bare('jon')), 'a message delivered again', 500);
  });

  it('a new bind of the hibernating resource ends it; its unacked messages arrive once', async () => {
    const kay = await login('kay');
    const jon = await login('jon', 'j2');
    await enable(kay);
    await available(kay);
    jon.send(chat(bare('kay'), 'unacked'));
    await kay.next(is.message(bare('jon'), 'unacked'), 'the message');
    kay.destroy();
    await kay.waitClosed();
    const fresh = await login('kay'); // same resource, no resumption
    await available(fresh);
    const m = await fresh.next(is.message(bare('jon'), 'unacked'), 'the message from offline');
    assert.ok(m.getChild('delay', 'urn:xmpp:delay'), 'marked as delayed');
    await fresh.expectNone(is.message(bare('jon')), 'a duplicate', 400);
  });
});

describe('offline messages under stream management', () => {
  it('are removed from storage only once the client acks them', async () => {
    const jon = await login('jon', 'j3');
    jon.send(chat(bare('cat'), 'stored 1'));
    jon.send(chat(bare('cat'), 'stored 2'));
    await ping(jon);

    const unacked = await login('cat', 'c2');
    await enable(unacked, false);
    await available(unacked);
    assert.deepEqual(await bodies(unacked, bare('jon'), 2), ['stored 1', 'stored 2']);
    unacked.destroy(); // never acked: they stay stored
    await unacked.waitClosed();

    const acking = await login('cat', 'c3');
    const enabled = await enable(acking, false);
    acking.send(x('presence'));
    const second =
      (await acking.next(is.message(bare('jon'), 'stored 1'), 'stored 1')) &&
      (await acking.next(is.message(bare('jon'), 'stored 2'), 'stored 2'));
    await ackAndLeave(acking, enabled, second);
    await expectNothingAtLogin('cat', 'c4', 'jon');
  });
});

describe('durability', () => {
  it('a message the server acked is in storage even if the process is killed right after', async () => {
    const own = await startRampart();
    let killed = false;
    try {
      await own.addUser('lia', PASSWORD);
      await own.addUser('max', PASSWORD);
      await own.addContacts('lia', 'max');
      const lia = await RawClient.login({
        port: own.ports.c2sTls,
        directTls: true,
        username: 'lia',
        password: PASSWORD,
      });
      clients.push(lia);
      await enable(lia, false);
      for (let i = 1; i <= 20; i++) lia.send(chat(bare('max'), `durable ${i}`));
      lia.send(x('r', { xmlns: SM }));
      const a = await lia.next(isSm('a'), '<a/>');
      assert.equal(a.attrs.h, '20');
      process.kill(own.pid, 'SIGKILL');
      killed = true;
      await new Promise((r) => setTimeout(r, 300));
      const storage = openStorage({ dataDir: own.dataDir });
      try {
        const stored = await storage.offline.list(bare('max'));
        assert.equal(stored.length, 20);
      } finally {
        await storage.close();
      }
    } finally {
      await own.stop().catch((err: unknown) => {
        if (!killed) throw err;
      });
    }
  });

  it('messages live at a connected client that has not acked survive kill -9, and arrive once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rampart-sm-crash-'));
    const N = 15;
    let own = await startRampart({ dataDir });
    try {
      await own.addUser('lia', PASSWORD);
      await own.addUser('max', PASSWORD);
      await own.addContacts('lia', 'max');
      const connect = (username: string) =>
        RawClient.login({ port: own.ports.c2sTls, directTls: true, username, password: PASSWORD });
      const max = await connect('max');
      clients.push(max);
      await enable(max);
      await available(max);
      const lia = await connect('lia');
      clients.push(lia);
      await enable(lia, false);
      for (let i = 1; i <= N; i++) lia.send(chat(bare('max'), `in flight ${i}`));
      lia.send(x('r', { xmlns: SM }));
      assert.equal((await lia.next(isSm('a'), '<a/>')).attrs.h, String(N));
      // max has them all on screen but never acks them.
      assert.equal((await bodies(max, bare('lia'), N)).length, N);
      process.kill(own.pid, 'SIGKILL');
      await own.stop().catch(() => {});
      lia.destroy();
      max.destroy();

      own = await startRampart({ dataDir });
      const again = await connect('max');
      clients.push(again);
      await available(again);
      assert.deepEqual(
        await bodies(again, bare('lia'), N),
        Array.from({ length: N }, (_, i) => `in flight ${i + 1}`),
      );
      await again.expectNone(is.message(bare('lia')), 'a second copy', 500);
    } finally {
      await own.stop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a message its recipient acks within write_ahead_after_ms is never written; the sender’s ack waits for that', async () => {
    const own = await startRampart({
      config: '[stream_management]\nrequest_every = 3\nwrite_ahead_after_ms = 4000\n',
    });
    let killed = false;
    try {
      await own.addUser('nia', PASSWORD);
      await own.addUser('oto', PASSWORD);
      await own.addContacts('nia', 'oto');
      const connect = (username: string) =>
        RawClient.login({ port: own.ports.c2sTls, directTls: true, username, password: PASSWORD });
      const oto = await connect('oto');
      clients.push(oto);
      const enabled = await enable(oto);
      await available(oto);
      const nia = await connect('nia');
      clients.push(nia);
      await enable(nia, false);
      const started = Date.now();
      for (let i = 1; i <= 3; i++) nia.send(chat(bare('oto'), `quick ${i}`));
      nia.send(x('r', { xmlns: SM }));
      await bodies(oto, bare('nia'), 3);
      // Not acked by oto, not yet written: nia's stanzas do not count as handled.
      await nia.expectNone(isSm('a'), 'an ack before the recipient acked', 300);
      await oto.next(isSm('r'), '<r/>');
      const els = oto.events.flatMap((e) => (e.kind === 'element' ? [e.el] : []));
      const last = els.filter(is.message(bare('nia'))).at(-1)!;
      oto.send(x('a', { xmlns: SM, h: String(handledUpTo(oto, enabled, last)) }));
      assert.equal((await nia.next(isSm('a'), '<a/>')).attrs.h, '3');
      assert.ok(Date.now() - started < 4000, 'the ack came from the recipient, not the write');
      process.kill(own.pid, 'SIGKILL');
      killed = true;
      await new Promise((r) => setTimeout(r, 300));
      const storage = openStorage({ dataDir: own.dataDir });
      try {
        assert.equal(await storage.offline.landAllInFlight(), 0);
        assert.equal((await storage.offline.list(bare('oto'))).length, 0);
      } finally {
        await storage.close();
      }
    } finally {
      await own.stop().catch((err: unknown) => {
        if (!killed) throw err;
      });
    }
  });

  it('a message written ahead is not offline while in flight, and once acked never comes back', async () => {
    const mia = await login('mia', 'm1');
    const enabled = await enable(mia);
    await available(mia);
    const lee = await login('lee');
    await enable(lee, false);
    for (let i = 1; i <= 3; i++) lee.send(chat(bare('mia'), `acked ${i}`));
    lee.send(x('r', { xmlns: SM }));
    assert.equal((await lee.next(isSm('a'), '<a/>')).attrs.h, '3');
    await bodies(mia, bare('lee'), 3);
    // Another resource coming online meanwhile gets no copy from storage of what m1 holds.
    const second = await login('mia', 'm2');
    await available(second);
    await second.expectNone(is.message(bare('lee')), 'an in-flight message', 400);
    second.close();
    await second.waitClosed();
    const els = mia.events.flatMap((e) => (e.kind === 'element' ? [e.el] : []));
    const last = els.filter(is.message(bare('lee'))).at(-1)!;
    await ackAndLeave(mia, enabled, last);
    await expectNothingAtLogin('mia', 'm3', 'lee');
  });
});
