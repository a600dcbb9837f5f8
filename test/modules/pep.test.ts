import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { securityEvents } from '../helpers/events.ts';
import { DATA, form, PUBSUB, publishIq } from '../helpers/pubsub.ts';
import {
  ClientPool,
  ns,
  type RawClient,
  stanzaErrorOf,
  type XmlElement,
  x,
} from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/** XEP-0163 PEP with the XEP-0060 subset clients use, over real sockets. */

const PASSWORD = 'pep tests 1';
const OWNER = 'http://jabber.org/protocol/pubsub#owner';
const ERRORS = 'http://jabber.org/protocol/pubsub#errors';
const D = 'localhost';
let server: RampartProcess;
const pool = new ClientPool(() => server.ports.c2sTls, PASSWORD);
const login = (username: string) => pool.login(username);
const bare = (u: string) => `${u}@${D}`;

async function publish(c: RawClient, ...args: Parameters<typeof publishIq>): Promise<XmlElement> {
  return c.iq(publishIq(...args));
}

function itemsIq(
  owner: string,
  node: string,
  attrs: Record<string, string> = {},
  ids: string[] = [],
) {
  return x(
    'iq',
    { type: 'get', to: owner },
    x(
      'pubsub',
      { xmlns: PUBSUB },
      x('items', { node, ...attrs }, ...ids.map((id) => x('item', { id }))),
    ),
  );
}

function itemIds(reply: XmlElement): string[] {
  return (
    reply
      .getChild('pubsub', PUBSUB)
      ?.getChild('items')
      ?.getChildren('item')
      .map((i) => i.attrs.id ?? '') ?? []
  );
}

function pubsubCondition(reply: XmlElement): string | undefined {
  return reply
    .getChild('error')
    ?.elements()
    .find((e) => e.xmlns === ERRORS)?.name;
}

const note = (text: string) => x('note', { xmlns: 'urn:example:note' }, text);

before(async () => {
  server = await startRampart({
    config: '[pep]\nmax_item_bytes = 2000\nmax_items = 50\nmax_nodes = 4\n',
  });
  await server.importUsers(['alice', 'bob', 'carol', 'dave'], PASSWORD);
  await server.addContacts('alice', 'bob');
});

after(async () => {
  pool.destroyAll();
  await server?.stop();
});

describe('XEP-0163 PEP', () => {
  it('announces the pep identity and publish-options on the bare JID', async () => {
    const alice = await login('alice');
    const r = await alice.iq(
      x('iq', { type: 'get', to: bare('alice') }, x('query', { xmlns: ns.discoInfo })),
    );
    const q = r.getChild('query', ns.discoInfo)!;
    assert.ok(
      q
        .getChildren('identity')
        .some((i) => i.attrs.category === 'pubsub' && i.attrs.type === 'pep'),
      r.toString(),
    );
    const features = q.getChildren('feature').map((f) => f.attrs.var);
    for (const f of ['publish', 'publish-options', 'access-whitelist', 'persistent-items'])
      assert.ok(features.includes(`${PUBSUB}#${f}`), `${f} in ${r.toString()}`);
  });

  it('publishes, keeps max_items, serves items by id and count, retracts and deletes', async () => {
    const alice = await login('alice');
    const first = await publish(alice, 'urn:example:one', note('first'));
    assert.equal(first.attrs.type, 'result', first.toString());
    const generated = first.getChild('pubsub', PUBSUB)?.getChild('publish')?.getChild('item')
      ?.attrs.id;
    assert.ok(generated, `the server names an item published without id: ${first.toString()}`);
    // A default node keeps one item: the second publish replaces the first.
    await publish(alice, 'urn:example:one', note('second'), { id: 'two' });
    const one = await alice.iq(itemsIq(bare('alice'), 'urn:example:one'));
    assert.deepEqual(itemIds(one), ['two']);
    assert.equal(
      one
        .getChild('pubsub', PUBSUB)
        ?.getChild('items')
        ?.getChild('item')
        ?.getChildText('note', 'urn:example:note'),
      'second',
    );
    assert.equal(
      one.toString().includes('publisher='),
      false,
      'items do not reveal the publishing resource',
    );

    const opts = { 'pubsub#max_items': '3', 'pubsub#persist_items': 'true' };
    for (const id of ['a', 'b', 'c', 'd'])
      assert.equal(
        (await publish(alice, 'urn:example:many', note(id), { id, options: opts })).attrs.type,
        'result',
      );
    assert.deepEqual(itemIds(await alice.iq(itemsIq(bare('alice'), 'urn:example:many'))), [
      'd',
      'c',
      'b',
    ]);
    assert.deepEqual(
      itemIds(await alice.iq(itemsIq(bare('alice'), 'urn:example:many', { max_items: '1' }))),
      ['d'],
    );
    assert.deepEqual(
      itemIds(await alice.iq(itemsIq(bare('alice'), 'urn:example:many', {}, ['b', 'a']))),
      ['b'],
    );

    const retract = await alice.iq(
      x(
        'iq',
        { type: 'set' },
        x(
          'pubsub',
          { xmlns: PUBSUB },
          x('retract', { node: 'urn:example:many' }, x('item', { id: 'c' })),
        ),
      ),
    );
    assert.equal(retract.attrs.type, 'result', retract.toString());
    assert.deepEqual(itemIds(await alice.iq(itemsIq(bare('alice'), 'urn:example:many'))), [
      'd',
      'b',
    ]);

    const del = await alice.iq(
      x(
        'iq',
        { type: 'set' },
        x('pubsub', { xmlns: OWNER }, x('delete', { node: 'urn:example:many' })),
      ),
    );
    assert.equal(del.attrs.type, 'result', del.toString());
    const gone = await alice.iq(itemsIq(bare('alice'), 'urn:example:many'));
    assert.equal(stanzaErrorOf(gone), 'item-not-found', gone.toString());
  });

  it('checks publish-options as preconditions (XEP-0060 §7.1.5)', async () => {
    const alice = await login('alice');
    const bookmarks = {
      'pubsub#persist_items': 'true',
      'pubsub#max_items': 'max',
      'pubsub#send_last_published_item': 'never',
      'pubsub#access_model': 'whitelist',
    };
    const conf = x('conference', { xmlns: 'urn:xmpp:bookmarks:1', name: 'Team' });
    const created = await publish(alice, 'urn:xmpp:bookmarks:1', conf, {
      id: 'team@muc.example',
      options: bookmarks,
    });
    assert.equal(created.attrs.type, 'result', created.toString());
    // The same options again: the node meets them.
    const again = await publish(alice, 'urn:xmpp:bookmarks:1', conf, {
      id: 'b@muc.example',
      options: bookmarks,
    });
    assert.equal(again.attrs.type, 'result', again.toString());
    assert.deepEqual(itemIds(await alice.iq(itemsIq(bare('alice'), 'urn:xmpp:bookmarks:1'))), [
      'b@muc.example',
      'team@muc.example',
    ]);

    for (const mismatch of [
      { 'pubsub#access_model': 'open' },
      { 'pubsub#max_items': '7' },
      { 'pubsub#unknown_option': '1' },
    ]) {
      const r = await publish(alice, 'urn:xmpp:bookmarks:1', conf, { id: 'x', options: mismatch });
      assert.equal(stanzaErrorOf(r), 'conflict', r.toString());
      assert.equal(pubsubCondition(r), 'precondition-not-met', r.toString());
    }
    // Nothing was stored by the refused publishes.
    assert.equal(
      itemIds(await alice.iq(itemsIq(bare('alice'), 'urn:xmpp:bookmarks:1'))).includes('x'),
      false,
    );

    // The owner reads the configuration; max means the server's limit.
    const cfg = await alice.iq(
      x(
        'iq',
        { type: 'get' },
        x('pubsub', { xmlns: OWNER }, x('configure', { node: 'urn:xmpp:bookmarks:1' })),
      ),
    );
    const value = (v: string) =>
      cfg
        .getChild('pubsub', OWNER)
        ?.getChild('configure')
        ?.getChild('x', DATA)
        ?.getChildren('field')
        .find((f) => f.attrs.var === v)
        ?.getChildText('value');
    assert.equal(value('pubsub#access_model'), 'whitelist', cfg.toString());
    assert.equal(value('pubsub#max_items'), '50', cfg.toString());

    // After reconfiguring to open, the open precondition is met (OMEMO's way of recovering).
    const reconf = await alice.iq(
      x(
        'iq',
        { type: 'set' },
        x(
          'pubsub',
          { xmlns: OWNER },
          x(
            'configure',
            { node: 'urn:xmpp:bookmarks:1' },
            form('submit', `${PUBSUB}#node_config`, { 'pubsub#access_model': 'open' }),
          ),
        ),
      ),
    );
    assert.equal(reconf.attrs.type, 'result', reconf.toString());
    const open = await publish(alice, 'urn:xmpp:bookmarks:1', conf, {
      id: 'c',
      options: { 'pubsub#access_model': 'open' },
    });
    assert.equal(open.attrs.type, 'result', open.toString());
  });

  it('applies the presence, open and whitelist access models', async () => {
    const [dave, bob, carol] = [await login('dave'), await login('bob'), await login('carol')];
    await server.addContacts('dave', 'bob');
    const device = x(
      'list',
      { xmlns: 'eu.siacs.conversations.axolotl' },
      x('device', { id: '42' }),
    );
    await publish(dave, 'eu.siacs.conversations.axolotl.devicelist', device, {
      id: 'current',
      options: { 'pubsub#access_model': 'open' },
    });
    await publish(
      dave,
      'urn:xmpp:avatar:metadata',
      x('metadata', { xmlns: 'urn:xmpp:avatar:metadata' }),
      { id: 'abc' },
    );
    await publish(dave, 'storage:bookmarks', x('storage', { xmlns: 'storage:bookmarks' }), {
      id: 'current',
      options: { 'pubsub#access_model': 'whitelist', 'pubsub#persist_items': '1' },
    });

    // The approved contact reads presence and open nodes, not the whitelist one.
    assert.deepEqual(itemIds(await bob.iq(itemsIq(bare('dave'), 'urn:xmpp:avatar:metadata'))), [
      'abc',
    ]);
    assert.deepEqual(
      itemIds(await bob.iq(itemsIq(bare('dave'), 'eu.siacs.conversations.axolotl.devicelist'))),
      ['current'],
    );
    const bobPrivate = await bob.iq(itemsIq(bare('dave'), 'storage:bookmarks'));
    assert.equal(stanzaErrorOf(bobPrivate), 'item-not-found', bobPrivate.toString());

    // A stranger reads only the open node.
    assert.deepEqual(
      itemIds(await carol.iq(itemsIq(bare('dave'), 'eu.siacs.conversations.axolotl.devicelist'))),
      ['current'],
    );
    const carolAvatar = await carol.iq(itemsIq(bare('dave'), 'urn:xmpp:avatar:metadata'));
    assert.equal(stanzaErrorOf(carolAvatar), 'not-authorized', carolAvatar.toString());
    assert.equal(pubsubCondition(carolAvatar), 'presence-subscription-required');
    const carolPrivate = await carol.iq(itemsIq(bare('dave'), 'storage:bookmarks'));
    assert.equal(stanzaErrorOf(carolPrivate), 'item-not-found', carolPrivate.toString());

    // disco#items lists what the asker may see.
    const items = await bob.iq(
      x(
        'iq',
        { type: 'get', to: bare('dave') },
        x('query', { xmlns: 'http://jabber.org/protocol/disco#items' }),
      ),
    );
    const nodes = items
      .getChild('query')!
      .getChildren('item')
      .map((i) => i.attrs.node)
      .sort();
    assert.deepEqual(nodes, [
      'eu.siacs.conversations.axolotl.devicelist',
      'urn:xmpp:avatar:metadata',
    ]);
    const own = await dave.iq(
      x('iq', { type: 'get' }, x('query', { xmlns: 'http://jabber.org/protocol/disco#items' })),
    );
    assert.equal(own.getChild('query')!.getChildren('item').length, 3, own.toString());

    // Only the owner publishes.
    const forged = await bob.iq(
      publishIq('urn:xmpp:avatar:metadata', note('mine now'), { to: bare('dave') }),
    );
    assert.equal(stanzaErrorOf(forged), 'forbidden', forged.toString());
  });

  it('refuses items that are too big or carry no namespaced payload', async () => {
    const alice = await login('alice');
    const big = await publish(alice, 'urn:example:big', note('x'.repeat(3000)));
    assert.equal(stanzaErrorOf(big), 'not-acceptable', big.toString());
    assert.equal(pubsubCondition(big), 'payload-too-big');
    assert.equal((await securityEvents(server, 'pep.item-too-big'))[0]?.actor, bare('alice'));
    const empty = await alice.iq(
      x(
        'iq',
        { type: 'set' },
        x(
          'pubsub',
          { xmlns: PUBSUB },
          x('publish', { node: 'urn:example:e' }, x('item', { id: '1' })),
        ),
      ),
    );
    assert.equal(stanzaErrorOf(empty), 'bad-request', empty.toString());
    assert.equal(pubsubCondition(empty), 'invalid-payload');
  });

  it('limits the number of nodes per account', async () => {
    const carol = await login('carol');
    for (const n of [1, 2, 3, 4]) {
      const r = await publish(carol, `urn:example:n${n}`, note('x'));
      assert.equal(r.attrs.type, 'result', r.toString());
    }
    const fifth = await publish(carol, 'urn:example:n5', note('x'));
    assert.equal(stanzaErrorOf(fifth), 'not-allowed', fifth.toString());
    assert.equal((await securityEvents(server, 'pep.max-nodes'))[0]?.actor, bare('carol'));
    // Publishing to an existing node is still fine.
    assert.equal((await publish(carol, 'urn:example:n1', note('y'))).attrs.type, 'result');
  });
});
