import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { is, RawClient, stanzaErrorOf, type XmlElement, x } from '../../helpers/raw-client.ts';
import { type RampartProcess, startRampart, withServerLog } from '../../helpers/server.ts';

// `rampart threat block` against a running server: the zero-hour purge takes back copies
// delivered earlier (XEP-0424 retraction for the one already read, deletion for the one
// still in offline storage), and the blocked link is refused from then on.

const PASSWORD = 'outbreak tests 1';
const D = 'localhost';
const NS_RETRACT = 'urn:xmpp:message-retract:1';
const NS_SID = 'urn:xmpp:sid:0';
const LINK = 'https://files.example.net/s/q3-report';

let server: RampartProcess;
const clients: RawClient[] = [];

async function login(username: string): Promise<RawClient> {
  const c = await RawClient.login({
    port: server.ports.c2sTls,
    directTls: true,
    username,
    password: PASSWORD,
  });
  clients.push(c);
  c.send(x('presence'));
  return c;
}

const chat = (to: string, id: string, body: string): XmlElement =>
  x(
    'message',
    { to: `${to}@${D}`, type: 'chat', id },
    x('body', {}, body),
    x('origin-id', { xmlns: NS_SID, id: `o-${id}` }),
  );

describe('rampart threat block: zero-hour purge through a running server', () => {
  before(async () => {
    server = await startRampart();
    for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, PASSWORD);
    await server.addContacts('alice', 'bob');
    await server.addContacts('alice', 'carol');
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server.stop();
  });

  it('retracts delivered copies, removes offline ones, refuses new ones; unblock lifts it', () =>
    withServerLog(server, async () => {
      const alice = await login('alice');
      const bob = await login('bob');
      // Both are available before alice writes (a ping round-trip orders the presence).
      for (const c of [alice, bob])
        await c.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: 'urn:xmpp:ping' })));

      alice.send(chat('bob', 'm1', `the report: ${LINK}`));
      alice.send(chat('carol', 'm2', `the report: ${LINK}`));
      const delivered = await bob.next(is.message(`alice@${D}`), 'the message with the link');
      const sid = delivered.getChild('stanza-id', NS_SID);
      assert.equal(sid?.attrs.by, `bob@${D}`, delivered.toString());

      const blocked = await server.cli([
        'threat',
        'block',
        'files.example.net',
        '--reason',
        'malware host',
      ]);
      assert.equal(blocked.code, 0, blocked.stderr);
      assert.equal(blocked.stdout, 'blocked domain files.example.net\n');

      const retraction = await bob.next(
        (el) => el.getChild('retract', NS_RETRACT) !== undefined,
        'a retraction',
      );
      assert.equal(retraction.attrs.from, `alice@${D}`);
      assert.equal(retraction.getChild('retract', NS_RETRACT)?.attrs.id, 'o-m1');
      assert.match(
        retraction.getChildText('body') ?? '',
        /removed a message alice@localhost sent you.*malware host/,
      );

      const carol = await login('carol');
      await carol.expectNone(
        (el) => el.name === 'message',
        'the purged offline copy or a retraction',
        800,
      );

      const list = await server.cli(['threat', 'list']);
      const [row] = list.stdout.trim().split('\n');
      const cols = row!.split('\t');
      assert.deepEqual(
        [cols[0], cols[1], cols[2], cols[5]],
        ['domain', 'files.example.net', 'admin', 'malware host'],
      );
      assert.notEqual(cols[4], '-', 'the purge is recorded');

      alice.send(chat('bob', 'm3', `again: ${LINK}`));
      const refused = await alice.next(
        (el) => el.attrs.type === 'error' && el.attrs.id === 'm3',
        'the refusal',
      );
      assert.equal(stanzaErrorOf(refused), 'policy-violation');
      assert.match(
        refused.getChild('error')?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas') ??
          '',
        /blocked on this server: malware host/,
      );

      const again = await server.cli(['threat', 'block', 'FILES.example.net']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already blocked: domain files.example.net/);

      const unblocked = await server.cli(['threat', 'unblock', 'files.example.net']);
      assert.equal(unblocked.code, 0, unblocked.stderr);
      alice.send(chat('bob', 'm4', `now fine: ${LINK}`));
      await bob.next((el) => el.attrs.id === 'm4', 'the message after unblocking');
      assert.equal((await server.cli(['threat', 'list'])).stdout, '');
      const bad = await server.cli(['threat', 'block', 'not a target!']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /not a URL/);
    }));
});
