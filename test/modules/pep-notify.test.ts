import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { capsVer, presenceWithCaps } from '../helpers/caps.ts';
import { securityEvents } from '../helpers/events.ts';
import { publishIq } from '../helpers/pubsub.ts';
import { ClientPool, type RawClient, type XmlElement, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/** XEP-0163 notifications: only to approved contacts with verified +notify caps (XEP-0115). */

const PASSWORD = 'pep notify tests 1';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const D = 'localhost';
let server: RampartProcess;
const pool = new ClientPool(() => server.ports.c2sTls, PASSWORD);
const bare = (u: string) => `${u}@${D}`;

const isEvent = (node: string, from?: string) => (el: XmlElement) =>
  el.name === 'message' &&
  (from === undefined || el.attrs.from === from) &&
  el.getChild('event', EVENT)?.getChild('items')?.attrs.node === node;

function eventItemIds(el: XmlElement): string[] {
  return (
    el
      .getChild('event', EVENT)
      ?.getChild('items')
      ?.getChildren('item')
      .map((i) => i.attrs.id ?? '') ?? []
  );
}

async function publish(c: RawClient, node: string, id: string, options?: Record<string, string>) {
  const r = await c.iq(
    publishIq(node, x('note', { xmlns: 'urn:example:note' }, id), {
      id,
      ...(options ? { options } : {}),
    }),
  );
  assert.equal(r.attrs.type, 'result', r.toString());
}

before(async () => {
  server = await startRampart();
  await server.importUsers(
    ['alice', 'bob', 'carol', 'dave', 'erin', 'owner2', 'fan2', 'gina', 'hank'],
    PASSWORD,
  );
  for (const contact of ['bob', 'dave', 'erin']) await server.addContacts('alice', contact);
  await server.addContacts('owner2', 'fan2');
});

after(async () => {
  pool.destroyAll();
  await server?.stop();
});

describe('PEP notifications', () => {
  it('go to approved contacts and own resources with +notify, never to strangers', async () => {
    const mood = 'urn:example:mood';
    const priv = 'urn:example:private';
    const features = [`${mood}+notify`, `${priv}+notify`];
    const alice = await pool.login('alice', 'desk');
    const alicePhone = await pool.login('alice', 'phone');
    const bob = await pool.login('bob');
    const carol = await pool.login('carol');
    await presenceWithCaps(alice, []);
    await presenceWithCaps(alicePhone, features);
    await presenceWithCaps(bob, features, { expectQuery: false });
    await presenceWithCaps(carol, features, { expectQuery: false });
    // dave is a contact but did not ask for mood notifications.
    const dave = await pool.login('dave');
    await presenceWithCaps(dave, ['urn:example:other+notify']);

    await publish(alice, mood, 'happy');
    const got = await bob.next(isEvent(mood, bare('alice')), 'bob’s mood notification');
    assert.equal(got.attrs.type, 'headline');
    assert.deepEqual(eventItemIds(got), ['happy']);
    assert.equal(
      got
        .getChild('event', EVENT)
        ?.getChild('items')
        ?.getChild('item')
        ?.getChildText('note', 'urn:example:note'),
      'happy',
    );
    await alicePhone.next(isEvent(mood), 'the owner’s other resource is notified');
    await carol.expectNone(isEvent(mood), 'a notification to a stranger', 300);
    await dave.expectNone(isEvent(mood), 'a notification without +notify', 50);
    await alice.expectNone(isEvent(mood), 'a notification without +notify', 50);

    // A whitelist node notifies the owner's resources only.
    await publish(alice, priv, 'secret', { 'pubsub#access_model': 'whitelist' });
    await alicePhone.next(isEvent(priv), 'the owner’s resource gets its private data');
    await bob.expectNone(isEvent(priv), 'a contact notified of a whitelist node', 300);

    // Retraction is announced the same way (notify_retract is on by default).
    const retract = await alice.iq(
      x(
        'iq',
        { type: 'set' },
        x(
          'pubsub',
          { xmlns: 'http://jabber.org/protocol/pubsub' },
          x('retract', { node: mood }, x('item', { id: 'happy' })),
        ),
      ),
    );
    assert.equal(retract.attrs.type, 'result', retract.toString());
    const gone = await bob.next(
      (el) =>
        isEvent(mood)(el) &&
        el.getChild('event', EVENT)?.getChild('items')?.getChild('retract') !== undefined,
      'the retraction',
    );
    assert.equal(
      gone.getChild('event', EVENT)?.getChild('items')?.getChild('retract')?.attrs.id,
      'happy',
    );
    await carol.expectNone(isEvent(mood), 'a retraction to a stranger', 200);
  });

  it('sends the last item on initial presence, only where the access model allows', async () => {
    const node = 'urn:xmpp:avatar:metadata';
    const features = [`${node}+notify`, 'urn:example:late+notify'];
    const owner = await pool.login('owner2');
    await publish(owner, node, 'avatar-1');
    await publish(owner, node, 'avatar-2');
    await publish(owner, 'urn:example:late', 'late-1', { 'pubsub#access_model': 'whitelist' });

    const fan = await pool.login('fan2', 'first');
    await presenceWithCaps(fan, features);
    const last = await fan.next(isEvent(node, bare('owner2')), 'the last published item');
    assert.deepEqual(eventItemIds(last), ['avatar-2']);
    await fan.expectNone(isEvent('urn:example:late'), 'the last item of a whitelist node', 200);

    // A second resource with the same (now cached) caps gets it at once, as does a reconnect.
    const again = await pool.login('fan2', 'second');
    await presenceWithCaps(again, features, { expectQuery: false });
    assert.deepEqual(eventItemIds(await again.next(isEvent(node), 'last item, cached caps')), [
      'avatar-2',
    ]);
    // Going unavailable and back is a new initial presence.
    again.send(x('presence', { type: 'unavailable' }));
    await presenceWithCaps(again, features, { expectQuery: false });
    await again.next(isEvent(node), 'last item after coming back');
    // A stranger with the same interest gets nothing.
    const carol = await pool.login('carol', 'late');
    await presenceWithCaps(carol, features, { expectQuery: false });
    await carol.expectNone(isEvent(node, bare('owner2')), 'a stranger’s last item', 300);
  });

  it('sends the last item to a contact as soon as the owner approves it', async () => {
    const node = 'urn:example:profile';
    const gina = await pool.login('gina');
    gina.send(x('presence'));
    await publish(gina, node, 'profile-1');
    const hank = await pool.login('hank');
    await presenceWithCaps(hank, [`${node}+notify`]);
    await hank.expectNone(isEvent(node), 'an item before approval', 200);
    hank.send(x('presence', { to: bare('gina'), type: 'subscribe' }));
    await gina.next((el) => el.name === 'presence' && el.attrs.type === 'subscribe', 'the request');
    gina.send(x('presence', { to: bare('hank'), type: 'subscribed' }));
    const last = await hank.next(isEvent(node, bare('gina')), 'the last item on approval');
    assert.deepEqual(eventItemIds(last), ['profile-1']);
  });

  it('does not trust caps whose hash does not verify, and does not cache them', async () => {
    const node = 'urn:example:status';
    const features = [`${node}+notify`];
    const wrongVer = capsVer(['urn:example:something-else']);
    const alice = await pool.login('alice', 'pub');
    const dave = await pool.login('dave', 'liar');
    const query = await presenceWithCaps(dave, features, { ver: wrongVer });
    assert.ok(query, 'the server asks what the ver stands for');
    await publish(alice, node, 's1');
    await dave.expectNone(isEvent(node), 'a notification based on an unverified hash', 400);
    const events = await securityEvents(server, 'caps.hash-mismatch');
    assert.ok(
      events.some((e) => e.actor === `${bare('dave')}/liar` && e.verdict === 'refuse'),
      JSON.stringify(events),
    );

    // Another client claiming the same ver is asked again: the bad answer was not cached.
    const erin = await pool.login('erin');
    const asked = await presenceWithCaps(erin, ['urn:example:something-else'], { ver: wrongVer });
    assert.ok(asked);
  });

  it('go to nobody the owner blocks', async () => {
    const node = 'urn:example:blocked';
    const features = [`${node}+notify`];
    const alice = await pool.login('alice', 'blocker');
    const erin = await pool.login('erin', 'blocked');
    await presenceWithCaps(erin, features);
    const block = await alice.iq(
      x(
        'iq',
        { type: 'set' },
        x('block', { xmlns: 'urn:xmpp:blocking' }, x('item', { jid: bare('erin') })),
      ),
    );
    assert.equal(block.attrs.type, 'result', block.toString());
    await publish(alice, node, 'b1');
    await erin.expectNone(isEvent(node), 'a notification to a blocked contact', 400);
    await alice.iq(x('iq', { type: 'set' }, x('unblock', { xmlns: 'urn:xmpp:blocking' })));
    await publish(alice, node, 'b2');
    assert.deepEqual(eventItemIds(await erin.next(isEvent(node), 'after unblocking')), ['b2']);
  });
});
