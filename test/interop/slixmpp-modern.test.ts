import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  loginArgs,
  type PyClient,
  type PyEvent,
  slixmppSkipReason,
  startPyClient,
} from '../helpers/python-client.ts';
import { type RampartProcess, startRampart, withServerLog } from '../helpers/server.ts';

// Debian's python3-slixmpp with its own XEP-0280, XEP-0163/0115, XEP-0191 and XEP-0054 plugins
// (test/clients/modern.py) against the real `rampart` command.

const skip = slixmppSkipReason();
const PASSWORD = 'modern-secret-1';
const D = 'localhost';

describe('slixmpp: carbons, PEP, blocking and vCards against rampart', { skip }, () => {
  let server: RampartProcess;
  const running: PyClient[] = [];
  const bare = (u: string) => `${u}@${D}`;

  /** Starts modern.py as `user`, waits for `ready`. */
  async function client(user: string, ...extra: string[]): Promise<PyClient> {
    const c = startPyClient(user, 'modern.py', [
      ...loginArgs(server.ports.c2s, bare(user), PASSWORD),
      '--timeout',
      '40',
      ...extra,
    ]);
    running.push(c);
    await c.waitFor((e) => e.event === 'ready', `${user} ready`);
    return c;
  }

  async function run(c: PyClient, line: string): Promise<PyEvent> {
    c.command(line);
    const cmd = line.split(' ')[0];
    return c.waitFor((e) => e.event === 'result' && e.cmd === cmd, line);
  }

  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  before(async () => {
    server = await startRampart();
    await server.importUsers(['alice', 'bob', 'carol', 'dave', 'erin', 'frank'], PASSWORD);
    await server.addContacts('alice', 'bob');
    await server.addContacts('dave', 'erin');
  });
  after(async () => {
    await Promise.all(running.map((c) => c.finish(2000)));
    await server?.stop();
  });

  test('carbons: two resources see each other’s conversations', async () => {
    await withServerLog(server, async () => {
      const desk = await client('alice', '--resource', 'desk', '--carbons');
      const phone = await client('alice', '--resource', 'phone', '--carbons');
      const bob = await client('bob', '--resource', 'laptop');

      await run(bob, `send ${bare('alice')}/desk hello desk`);
      await desk.waitFor((e) => e.event === 'message' && e.body === 'hello desk', 'desk gets it');
      const received = await phone.waitFor(
        (e) => e.event === 'carbon' && e.kind === 'received',
        'phone gets a received carbon',
      );
      assert.equal(received.body, 'hello desk');
      assert.equal(received.from, `${bare('bob')}/laptop`);
      assert.equal(received.outer_from, bare('alice'));

      await run(phone, `send ${bare('bob')} answered from the phone`);
      await bob.waitFor(
        (e) => e.event === 'message' && e.body === 'answered from the phone',
        'bob gets the answer',
      );
      const sent = await desk.waitFor(
        (e) => e.event === 'carbon' && e.kind === 'sent',
        'desk gets a sent carbon',
      );
      assert.equal(sent.body, 'answered from the phone');
      assert.equal(sent.to, bare('bob'));
      // The sender gets no copy of its own message, bob (no carbons) none at all.
      await pause(300);
      assert.equal(phone.events.filter((e) => e.event === 'carbon' && e.kind === 'sent').length, 0);
      assert.equal(bob.events.filter((e) => e.event === 'carbon').length, 0);
      for (const c of [desk, phone, bob]) assert.equal(await c.finish(), 0, c.describe());
    });
  });

  test('PEP: a contact with +notify is notified, a stranger is not', async () => {
    await withServerLog(server, async () => {
      const node = 'urn:example:mood';
      const alice = await client('alice', '--resource', 'pep');
      const first = await run(alice, `publish ${node} m1 sunny`);
      assert.equal(first.type, 'result', String(first.raw));

      // The contact's client answers the server's caps query and then gets the last item.
      const bob = await client('bob', '--resource', 'pep', '--notify', node);
      await bob.waitFor((e) => e.event === 'caps_query', 'the server asks bob’s caps');
      const last = await bob.waitFor((e) => e.event === 'pep' && e.id === 'm1', 'last item');
      assert.equal(last.text, 'sunny');
      assert.equal(last.from, bare('alice'));
      // The stranger's slixmpp has the same (now verified) caps; an IQ round trip makes sure
      // the server has read her presence before the next publish.
      const carol = await client('carol', '--resource', 'pep', '--notify', node);
      assert.equal((await run(carol, 'publish urn:example:own c1 mine')).type, 'result');

      const second = await run(alice, `publish ${node} m2 rainy`);
      assert.equal(second.type, 'result', String(second.raw));
      const live = await bob.waitFor((e) => e.event === 'pep' && e.id === 'm2', 'live item');
      assert.equal(live.text, 'rainy');
      await pause(500);
      assert.deepEqual(
        carol.events.filter((e) => e.event === 'pep'),
        [],
        'the stranger got a PEP notification',
      );
      for (const c of [alice, bob, carol]) assert.equal(await c.finish(), 0, c.describe());
    });
  });

  test('blocking: the blocked contact gets nothing, not even presence, and is refused', async () => {
    await withServerLog(server, async () => {
      const dave = await client('dave', '--resource', 'home');
      const erin = await client('erin', '--resource', 'work', '--notify', 'urn:example:status');
      await erin.waitFor(
        (e) =>
          e.event === 'presence' && e.from === `${bare('dave')}/home` && e.type === 'available',
        'erin sees dave before the block',
      );
      const blocked = await run(dave, `block ${bare('erin')}`);
      assert.equal(blocked.type, 'result', String(blocked.raw));
      await erin.waitFor(
        (e) =>
          e.event === 'presence' && e.from === `${bare('dave')}/home` && e.type === 'unavailable',
        'erin sees dave go offline when blocked',
      );
      const mark = erin.events.length;
      await run(dave, 'status busy but not for erin');
      await run(dave, 'publish urn:example:status s1 not for erin');
      await run(erin, `send ${bare('dave')} are you there?`);
      const refusal = await erin.waitFor(
        (e) => e.event === 'message' && e.type === 'error',
        'erin’s message is refused',
      );
      assert.match(String(refusal.raw), /service-unavailable/);
      await pause(500);
      const leaked = erin.events
        .slice(mark)
        .filter(
          (e) =>
            ['presence', 'pep'].includes(e.event) || (e.event === 'message' && e.type !== 'error'),
        );
      assert.deepEqual(leaked, [], 'something from dave reached the blocked contact');
      assert.equal(
        dave.events.filter((e) => e.event === 'message' && e.body === 'are you there?').length,
        0,
        'the blocked contact’s message was delivered',
      );
      for (const c of [dave, erin]) assert.equal(await c.finish(), 0, c.describe());
    });
  });

  test('vCard: the owner publishes, a contact reads it, a stranger does not', async () => {
    await withServerLog(server, async () => {
      const frank = await client('frank', '--resource', 'card');
      const alice = await client('alice', '--resource', 'card');
      const carol = await client('carol', '--resource', 'card');
      await server.addContacts('frank', 'alice');
      const set = await run(frank, 'setvcard Frank Example');
      assert.equal(set.type, 'result', String(set.raw));
      const own = await run(frank, `vcard ${bare('frank')}`);
      assert.match(String(own.raw), /Frank Example/);
      const contact = await run(alice, `vcard ${bare('frank')}`);
      assert.equal(contact.type, 'result', String(contact.raw));
      assert.match(String(contact.raw), /Frank Example/);
      const stranger = await run(carol, `vcard ${bare('frank')}`);
      assert.equal(stranger.type, 'error', String(stranger.raw));
      assert.doesNotMatch(String(stranger.raw), /Frank Example/);
      for (const c of [frank, alice, carol]) assert.equal(await c.finish(), 0, c.describe());
    });
  });
});
