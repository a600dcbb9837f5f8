import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { is, ns, RawClient, stanzaErrorOf, type XmlElement, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/** XEP-0191 blocking command over real sockets: the blocklist protocol and its enforcement. */

const PASSWORD = 'blocking tests 1';
const NS = 'urn:xmpp:blocking';
const NS_ERRORS = 'urn:xmpp:blocking:errors';
const D = 'localhost';
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank', 'iris', 'jill'];
let server: RampartProcess;
const clients: RawClient[] = [];
const bare = (u: string) => `${u}@${D}`;

async function login(username: string, resource?: string): Promise<RawClient> {
  const c = await RawClient.login({
    port: server.ports.c2sTls,
    directTls: true,
    username,
    password: PASSWORD,
    ...(resource === undefined ? {} : { resource }),
  });
  clients.push(c);
  return c;
}

async function ping(c: RawClient): Promise<void> {
  const r = await c.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: ns.ping })));
  assert.equal(r.attrs.type, 'result', r.toString());
}

async function available(c: RawClient): Promise<void> {
  c.send(x('presence'));
  await ping(c);
}

async function blocklist(c: RawClient): Promise<string[]> {
  const r = await c.iq(x('iq', { type: 'get' }, x('blocklist', { xmlns: NS })));
  assert.equal(r.attrs.type, 'result', r.toString());
  return r
    .getChild('blocklist', NS)!
    .getChildren('item')
    .map((i) => i.attrs.jid!)
    .sort();
}

async function command(c: RawClient, name: 'block' | 'unblock', ...jids: string[]) {
  const r = await c.iq(
    x('iq', { type: 'set' }, x(name, { xmlns: NS }, ...jids.map((jid) => x('item', { jid })))),
  );
  assert.equal(r.attrs.type, 'result', r.toString());
}

const isPush = (name: string) => (el: XmlElement) =>
  el.name === 'iq' && el.attrs.type === 'set' && el.getChild(name, NS) !== undefined;
const isPresenceFrom = (prefix: string, type?: string) => (el: XmlElement) =>
  el.name === 'presence' && (el.attrs.from ?? '').startsWith(prefix) && el.attrs.type === type;

before(async () => {
  server = await startRampart();
  const users = await server.cli(
    ['user', 'import', '-'],
    USERS.map((u) => `${bare(u)},${PASSWORD}`).join('\n'),
  );
  assert.equal(users.code, 0, users.stderr);
  await server.addContacts('alice', 'bob');
  await server.addContacts('gina', 'hank');
});

after(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
});

describe('XEP-0191 blocking command', () => {
  it('is announced in the server’s disco features', async () => {
    const c = await login('iris');
    const r = await c.iq(x('iq', { type: 'get', to: D }, x('query', { xmlns: ns.discoInfo })));
    const features = r.getChild('query', ns.discoInfo)!.getChildren('feature');
    assert.ok(
      features.some((f) => f.attrs.var === NS),
      r.toString(),
    );
  });

  it('keeps the blocklist and pushes changes to resources that asked for it', async () => {
    const c1 = await login('carol', 'one');
    const c2 = await login('carol', 'two');
    const c3 = await login('carol', 'three');
    assert.deepEqual(await blocklist(c1), []);
    assert.deepEqual(await blocklist(c2), []);

    await command(c1, 'block', bare('dave'), 'example.org');
    for (const c of [c1, c2]) {
      const push = await c.next(isPush('block'), 'a block push');
      const items = push
        .getChild('block', NS)!
        .getChildren('item')
        .map((i) => i.attrs.jid);
      assert.deepEqual(items.sort(), [bare('dave'), 'example.org']);
    }
    await c3.expectNone(isPush('block'), 'a push to a resource that never asked', 300);
    assert.deepEqual(await blocklist(c3), [bare('dave'), 'example.org']);

    await command(c2, 'unblock', 'example.org');
    const unpush = await c1.next(isPush('unblock'), 'an unblock push');
    assert.equal(unpush.getChild('unblock', NS)!.getChild('item')?.attrs.jid, 'example.org');
    assert.deepEqual(await blocklist(c1), [bare('dave')]);

    // Unblock-all: an <unblock/> without items.
    await command(c1, 'unblock');
    assert.deepEqual(await blocklist(c1), []);

    const bad = await c1.iq(x('iq', { type: 'set' }, x('block', { xmlns: NS })));
    assert.equal(stanzaErrorOf(bad), 'bad-request', bad.toString());
    const malformed = await c1.iq(
      x('iq', { type: 'set' }, x('block', { xmlns: NS }, x('item', { jid: 'a@b@c' }))),
    );
    assert.equal(stanzaErrorOf(malformed), 'jid-malformed', malformed.toString());
  });

  it('the blocked contact sees the user go offline and gets nothing more; its stanzas bounce', async () => {
    const alice = await login('alice', 'a');
    const bob = await login('bob', 'b');
    await available(alice);
    await available(bob);
    await bob.next(isPresenceFrom(bare('alice')), 'alice’s presence before the block');
    await alice.next(isPresenceFrom(bare('bob')), 'bob’s presence before the block');

    await command(alice, 'block', bare('bob'));
    await bob.next(isPresenceFrom(bare('alice'), 'unavailable'), 'alice going unavailable');

    // Bob → alice: a message and an IQ answered with service-unavailable; nothing reaches her.
    bob.send(x('message', { to: bare('alice'), type: 'chat', id: 'm1' }, x('body', {}, 'hi')));
    const bounced = await bob.next((el) => el.name === 'message' && el.attrs.id === 'm1');
    assert.equal(stanzaErrorOf(bounced), 'service-unavailable', bounced.toString());
    const iq = await bob.iq(
      x('iq', { type: 'get', to: alice.jid }, x('query', { xmlns: ns.version })),
    );
    assert.equal(stanzaErrorOf(iq), 'service-unavailable', iq.toString());
    const vcard = await bob.iq(
      x('iq', { type: 'get', to: bare('alice') }, x('vCard', { xmlns: 'vcard-temp' })),
    );
    assert.equal(stanzaErrorOf(vcard), 'service-unavailable', vcard.toString());
    // Bob's presence is dropped silently; alice's presence never reaches bob.
    bob.send(x('presence', {}, x('status', {}, 'still here')));
    alice.send(x('presence', {}, x('status', {}, 'new status')));
    await ping(bob);
    await ping(alice);
    await alice.expectNone(is.message(), 'a message from bob', 200);
    await alice.expectNone(isPresenceFrom(bare('bob')), 'presence from bob', 200);
    await bob.expectNone(isPresenceFrom(bare('alice')), 'presence from alice', 200);

    // Alice → bob: refused with not-acceptable and <blocked/>.
    alice.send(x('message', { to: bare('bob'), type: 'chat', id: 'm2' }, x('body', {}, 'hey')));
    const refused = await alice.next((el) => el.name === 'message' && el.attrs.id === 'm2');
    assert.equal(stanzaErrorOf(refused), 'not-acceptable', refused.toString());
    assert.ok(refused.getChild('error')!.getChild('blocked', NS_ERRORS), refused.toString());
    await bob.expectNone(is.message(bare('alice')), 'a message from alice', 200);

    // Unblocking restores presence and messages.
    await command(alice, 'unblock', bare('bob'));
    await bob.next(isPresenceFrom(bare('alice')), 'alice’s presence after the unblock');
    bob.send(x('message', { to: bare('alice'), type: 'chat' }, x('body', {}, 'back')));
    await alice.next(is.message(undefined, 'back'), 'bob’s message after the unblock');
  });

  it('blocks a whole domain, without cutting the user off from its own server', async () => {
    const erin = await login('erin');
    const dave = await login('dave');
    await available(erin);
    await command(erin, 'block', D);
    dave.send(x('message', { to: bare('erin'), type: 'chat', id: 'd1' }, x('body', {}, 'x')));
    const bounced = await dave.next((el) => el.name === 'message' && el.attrs.id === 'd1');
    assert.equal(stanzaErrorOf(bounced), 'service-unavailable', bounced.toString());
    await ping(erin);
    await command(erin, 'unblock', D);
  });

  it('a message to an offline user from a blocked JID is refused, not stored', async () => {
    const gina = await login('gina');
    await command(gina, 'block', bare('frank'));
    gina.close();
    await gina.waitClosed();
    const frank = await login('frank');
    frank.send(x('message', { to: bare('gina'), type: 'chat', id: 'f1' }, x('body', {}, 'psst')));
    const bounced = await frank.next((el) => el.name === 'message' && el.attrs.id === 'f1');
    assert.equal(stanzaErrorOf(bounced), 'service-unavailable', bounced.toString());
    // An unblocked sender's message is stored as usual and arrives at login.
    const hank = await login('hank');
    hank.send(x('message', { to: bare('gina'), type: 'chat' }, x('body', {}, 'stored')));
    await ping(hank);
    const again = await login('gina');
    await available(again);
    await again.next(is.message(undefined, 'stored'), 'the stored message');
    await again.expectNone(is.message(undefined, 'psst'), 'the blocked message', 200);
  });

  it('drops subscription requests from a blocked JID, also those that waited offline', async () => {
    const iris = await login('iris', 'i1');
    await available(iris);
    await command(iris, 'block', bare('dave'));
    const dave = await login('dave');
    dave.send(x('presence', { to: bare('iris'), type: 'subscribe' }));
    await ping(dave);
    await iris.expectNone(is.presence(bare('dave'), 'subscribe'), 'a request from dave', 200);

    // A request stored while the user was offline is not shown once its sender is blocked.
    const frank = await login('frank');
    frank.send(x('presence', { to: bare('jill'), type: 'subscribe' }));
    await ping(frank);
    const jill = await login('jill');
    await command(jill, 'block', bare('frank'));
    jill.close();
    await jill.waitClosed();
    const again = await login('jill');
    await available(again);
    await again.expectNone(is.presence(bare('frank'), 'subscribe'), 'the stored request', 300);
  });

  it('only the account itself reads or changes its blocklist', async () => {
    const iris = await login('iris');
    const r = await iris.iq(
      x('iq', { type: 'get', to: bare('carol') }, x('blocklist', { xmlns: NS })),
    );
    assert.equal(stanzaErrorOf(r), 'forbidden', r.toString());
  });
});
