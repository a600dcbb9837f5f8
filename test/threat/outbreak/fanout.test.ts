import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { is, RawClient, stanzaErrorOf, type XmlElement, x } from '../../helpers/raw-client.ts';
import { type RampartProcess, startRampart, withServerLog } from '../../helpers/server.ts';

// The fan-out and outbreak rules (T2) through real XMPP sessions: an account that sends one
// link to a 6th contact within a minute is refused and quarantined (sessions ended, logins
// refused, admins told, copies already delivered retracted) until `rampart user release`;
// the same link from 3 accounts is blocked server-wide.

const PASSWORD = 'fan-out tests 1';
const D = 'localhost';
const NS_RETRACT = 'urn:xmpp:message-retract:1';
const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
// An ordinary-looking host: only the fan-out itself can give the worm away.
const LINK = 'https://share-moments.net/p/k2x9?ref=41';
const CONTACTS = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
const WORMS = ['alice', 'w2', 'w3', 'w4', 'v1', 'm1', 'm2'];
const POLICY = `[policy]\nadmins = ["admin@${D}"]\n`;

let server: RampartProcess;
const clients: RawClient[] = [];

function connect(username: string): Promise<RawClient> {
  return RawClient.login({
    port: server.ports.c2sTls,
    directTls: true,
    username,
    password: PASSWORD,
  });
}

async function online(username: string): Promise<RawClient> {
  const c = await connect(username);
  clients.push(c);
  c.send(x('presence'));
  await c.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: 'urn:xmpp:ping' })));
  return c;
}

const lure = (to: string, id: string, wording: string): XmlElement =>
  x('message', { to: `${to}@${D}`, type: 'chat', id }, x('body', {}, `${wording} ${LINK}`));

const errorFor = (c: RawClient, id: string) =>
  c.next((el) => el.attrs.type === 'error' && el.attrs.id === id, `the error for ${id}`);

describe('fan-out quarantine and outbreak blocks through real sessions', () => {
  before(async () => {
    server = await startRampart({ config: POLICY });
    const users = ['admin', ...CONTACTS, ...WORMS].map((u) => `${u}@${D},${PASSWORD}`);
    const created = await server.cli(['user', 'import', '-'], `${users.join('\n')}\n`);
    assert.equal(created.code, 0, created.stderr);
    const pairs = WORMS.flatMap((w) => CONTACTS.map((c) => `${w}@${D},${c}@${D}`));
    const contacts = await server.cli(['roster', 'import', '-'], `${pairs.join('\n')}\n`);
    assert.equal(contacts.code, 0, contacts.stderr);
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server.stop();
  });

  it('the 6th copy of a link is refused, the sender quarantined until released', () =>
    withServerLog(server, async () => {
      const admin = await online('admin');
      const c1 = await online('c1');
      const alice = await online('alice');
      CONTACTS.forEach((c, i) => {
        alice.send(
          lure(c, `m${i + 1}`, ['lol', 'wow', 'haha look', 'omg', 'is this you?', 'hey'][i]!),
        );
      });

      const delivered = await c1.next(is.message(`alice@${D}`), 'copy 1');
      assert.equal(delivered.attrs.id, 'm1');
      const refused = await errorFor(alice, 'm6');
      assert.equal(stanzaErrorOf(refused), 'policy-violation');
      const text = refused.getChild('error')?.getChildText('text', STANZAS) ?? '';
      assert.match(text, /share-moments\[\.\]net.* to 6 people within 60 seconds/);
      const ended = await alice.streamError();
      assert.equal(ended.condition, 'policy-violation');
      assert.match(ended.text ?? '', /quarantined/);

      const notice = await admin.next(is.message(D), 'the admin alert');
      assert.match(
        notice.getChildText('body') ?? '',
        /quarantined alice@localhost.*rampart user release alice@localhost/,
      );
      const retraction = await c1.next(
        (el) => el.getChild('retract', NS_RETRACT) !== undefined,
        'the retraction of copy 1',
      );
      assert.equal(retraction.getChild('retract', NS_RETRACT)?.attrs.id, 'm1');
      assert.equal(retraction.attrs.from, `alice@${D}`);

      await assert.rejects(
        connect('alice'),
        /account-disabled This account is quarantined: You sent/,
      );
      const released = await server.cli(['user', 'release', `alice@${D}`]);
      assert.equal(released.code, 0, released.stderr);
      assert.match(released.stdout, /^released alice@localhost/);
      const back = await online('alice');
      back.send(
        x(
          'message',
          { to: `c1@${D}`, type: 'chat', id: 'after' },
          x('body', {}, 'sorry, my PC had a virus'),
        ),
      );
      await c1.next((el) => el.attrs.id === 'after', 'a message after the release');
    }));

  it('the link sent on by other accounts is refused, then blocked on the whole server', () =>
    withServerLog(server, async () => {
      const [w2, w3, w4] = await Promise.all(['w2', 'w3', 'w4'].map(online));
      // alice was quarantined for LINK: the next accounts sending it are the worm's next hop.
      w2!.send(lure('c2', 'w2-1', 'check this out'));
      const suspect = await errorFor(w2!, 'w2-1');
      assert.match(
        suspect.getChild('error')?.getChildText('text', STANZAS) ?? '',
        /another account was just quarantined/,
      );
      w3!.send(lure('c3', 'w3-1', 'you have to see this'));
      const blocked = await errorFor(w3!, 'w3-1');
      assert.match(
        blocked.getChild('error')?.getChildText('text', STANZAS) ?? '',
        /blocked on this server: 3 accounts spread it/,
      );

      const list = await server.cli(['threat', 'list']);
      const rows = list.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
      assert.ok(
        rows.some((r) => r[0] === 'url' && r[1] === LINK && r[2] === 'outbreak'),
        list.stdout,
      );
      w4!.send(lure('c4', 'w4-1', 'lol'));
      await errorFor(w4!, 'w4-1');
    }));

  it('a worm that gives each contact its own host, path and wording is still stopped', () =>
    withServerLog(server, async () => {
      const v1 = await online('v1');
      const wordings = ['lol', 'is this you?', 'haha', 'wow look', 'omg', 'download this'];
      CONTACTS.forEach((c, i) => {
        const link = `http://198.51.100.${20 + i}:8180/p${i}.php?id=${i * 7919}`;
        v1.send(
          x(
            'message',
            { to: `${c}@${D}`, type: 'chat', id: `v${i}` },
            x('body', {}, `${wordings[i]} ${link}`),
          ),
        );
      });
      const refused = await errorFor(v1, 'v5');
      assert.match(
        refused.getChild('error')?.getChildText('text', STANZAS) ?? '',
        /suspicious links to 6 people within 60 seconds/,
      );
      assert.equal((await v1.streamError()).condition, 'policy-violation');
      await assert.rejects(connect('v1'), /account-disabled/);
      const released = await server.cli(['user', 'release', `v1@${D}`]);
      assert.equal(released.code, 0, released.stderr);
    }));

  it('in monitor mode only records; a policy reload applies new thresholds', () =>
    withServerLog(server, async () => {
      const other = 'https://holiday-snaps.net/a/77';
      const writeConfig = (extra: string) =>
        writeFileSync(
          join(server.dataDir, 'rampart.toml'),
          `[auth]\nscram_iterations = 4096\n${POLICY}${extra}`,
        );
      const reload = async () => {
        const r = await server.cli(['policy', 'reload']);
        assert.equal(r.code, 0, r.stderr);
      };
      writeConfig('[policy.modes]\nfanout = "monitor"\n');
      await reload();
      const m1 = await online('m1');
      CONTACTS.forEach((c, i) => {
        m1.send(
          x(
            'message',
            { to: `${c}@${D}`, type: 'chat', id: `mon${i}` },
            x('body', {}, `look ${other}`),
          ),
        );
      });
      await m1.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: 'urn:xmpp:ping' })));
      await m1.expectNone((el) => el.attrs.type === 'error', 'a refusal in monitor mode', 300);
      const events = (await server.cli(['events', 'export', '--since', '10m'])).stdout
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as { rule: string; actor: string; evidence?: Record<string, unknown> },
        );
      const monitored = events.find((e) => e.rule === 'fanout' && e.actor.startsWith(`m1@${D}`));
      assert.equal(monitored?.evidence?.wouldBe, 'quarantine');

      writeConfig('[policy.outbreak]\nfanout_recipients = 2\n');
      await reload();
      const m2 = await online('m2');
      for (const [i, c] of ['c1', 'c2', 'c3'].entries()) {
        m2.send(
          x(
            'message',
            { to: `${c}@${D}`, type: 'chat', id: `k${i}` },
            x('body', {}, `see https://team-photos.net/album/${i}`),
          ),
        );
      }
      const third = await errorFor(m2, 'k2');
      assert.match(
        third.getChild('error')?.getChildText('text', STANZAS) ?? '',
        /a link to team-photos\[\.\]net to 3 people within 60 seconds/,
      );
    }));
});
