import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClientPool, is, ns, type RawClient, type XmlElement, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/** XEP-0352 client state indication: what an inactive client gets, and when. */

const PASSWORD = 'csi tests 1';
const CSI = 'urn:xmpp:csi:0';
const CHAT_STATES = 'http://jabber.org/protocol/chatstates';
const D = 'localhost';
let server: RampartProcess;
const pool = new ClientPool(() => server.ports.c2sTls, PASSWORD);
const bare = (u: string) => `${u}@${D}`;

async function ping(c: RawClient): Promise<void> {
  const r = await c.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: ns.ping })));
  assert.equal(r.attrs.type, 'result');
}

const fromAlice = (el: XmlElement) => el.attrs.from?.startsWith(bare('alice')) === true;
const status = (text: string) => x('presence', {}, x('status', {}, text));

/** Matches elements from alice that arrive after the first `skip` events of `c`. */
function newSince(c: RawClient, skip: number) {
  const old = new Set(c.events.slice(0, skip).flatMap((e) => (e.kind === 'element' ? [e.el] : [])));
  return (el: XmlElement) => fromAlice(el) && !old.has(el);
}

/** Elements `c` received after the first `skip` events, in order, without ping traffic. */
function receivedSince(c: RawClient, skip: number): XmlElement[] {
  return c.events
    .slice(skip)
    .flatMap((e) => (e.kind === 'element' ? [e.el] : []))
    .filter((el) => el.name !== 'iq' && fromAlice(el));
}

function describeEl(el: XmlElement): string {
  if (el.name === 'presence') return `presence:${el.getChildText('status') ?? el.attrs.type}`;
  if (el.getChild('body')) return `body:${el.getChildText('body')}`;
  return `message:${el.elements()[0]?.name}`;
}

before(async () => {
  server = await startRampart();
  await server.importUsers(['alice', 'bob'], PASSWORD);
  await server.addContacts('alice', 'bob');
});

after(async () => {
  pool.destroyAll();
  await server?.stop();
});

describe('XEP-0352 client state indication', () => {
  it('holds presence (latest per contact) and chat states, flushing them in order before a message', async () => {
    const alice = await pool.login('alice', 'desk');
    const bob = await pool.login('bob', 'phone');
    assert.ok(bob.features?.getChild('csi', CSI), `csi feature: ${bob.features?.toString()}`);
    bob.send(x('presence'));
    await ping(bob);
    alice.send(status('s0'));
    await bob.next(is.presence(bare('alice')), 'alice online');

    bob.send(x('inactive', { xmlns: CSI }));
    await ping(bob); // nothing is held yet, so this only proves <inactive/> was handled
    const mark = bob.events.length;
    // Presence is broadcast asynchronously: a round trip orders it before the chat state.
    alice.send(status('s1'));
    alice.send(status('s2'));
    alice.send(status('s3'));
    await ping(alice);
    alice.send(
      x('message', { to: bare('bob'), type: 'chat' }, x('composing', { xmlns: CHAT_STATES })),
    );
    await ping(alice);
    await bob.expectNone(fromAlice, 'anything from alice while inactive', 300);

    alice.send(x('message', { to: bare('bob'), type: 'chat' }, x('body', {}, 'wake up')));
    await bob.next(is.message(bare('alice'), 'wake up'), 'the urgent message');
    assert.deepEqual(receivedSince(bob, mark).map(describeEl), [
      'presence:s3',
      'message:composing',
      'body:wake up',
    ]);

    // Becoming active releases what waited.
    const mark2 = bob.events.length;
    alice.send(status('s4'));
    alice.send(status('s5'));
    await ping(alice);
    await bob.expectNone(newSince(bob, mark2), 'anything from alice while inactive', 200);
    bob.send(x('active', { xmlns: CSI }));
    await bob.next(newSince(bob, mark2), 'the held presence');
    assert.deepEqual(receivedSince(bob, mark2).map(describeEl), ['presence:s5']);

    // Active again: presence flows at once.
    const mark3 = bob.events.length;
    alice.send(status('s6'));
    const live = await bob.next(newSince(bob, mark3), 'live presence');
    assert.equal(live.getChildText('status'), 's6');
  });
});
