import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { is, ns, RawClient, stanzaErrorOf, type XmlElement, x } from '../../helpers/raw-client.ts';
import { type RampartProcess, repoRoot, startRampart } from '../../helpers/server.ts';

/**
 * The policy on a running server: monitor mode, `rampart policy reload` and SIGHUP, a bad
 * reload that keeps the running policy, quarantine of an account that keeps approaching
 * strangers, held-message administration, and the events commands.
 */
const PASSWORD = 'policy tests 1';
const D = 'localhost';
const NS_DELAY = 'urn:xmpp:delay';
const USERS = ['ann', 'bo', 'cy', 'di', 'ed', 'flo', 'gil', 'max', 'ola', 'pia', 'quin'];
const bare = (u: string) => `${u}@${D}`;
const AUTH = '[auth]\nscram_iterations = 4096\n';
const STRANGER = '[policy.stranger]\nnew_account_hourly_limit = 1\nquarantine_after = 2\n';
let server: RampartProcess;
const clients: RawClient[] = [];

function writeConfig(extra: string): void {
  writeFileSync(join(server.dataDir, 'rampart.toml'), `${AUTH}\n${STRANGER}\n${extra}\n`);
}

async function online(username: string): Promise<RawClient> {
  const c = await RawClient.login({
    port: server.ports.c2sTls,
    directTls: true,
    username,
    password: PASSWORD,
  });
  clients.push(c);
  c.send(x('presence'));
  const r = await c.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: ns.ping })));
  assert.equal(r.attrs.type, 'result');
  return c;
}

const chat = (to: string, body: string, id?: string): XmlElement =>
  x('message', { to, type: 'chat', id }, x('body', {}, body));

async function cli(...args: string[]): Promise<string> {
  const r = await server.cli(args);
  assert.equal(r.code, 0, `rampart ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  server = await startRampart({ config: STRANGER });
  const r = await server.cli(
    ['user', 'import', '-'],
    USERS.map((u) => `${bare(u)},${PASSWORD}`).join('\n'),
  );
  assert.equal(r.code, 0, r.stderr);
  await server.addContacts('ann', 'bo');
});

after(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
});

describe('policy reload', () => {
  it('monitor mode delivers and records; a bad reload keeps it; SIGHUP brings enforce back', async () => {
    const cy = await online('cy');
    const di = await online('di');
    cy.send(chat(bare('di'), 'enforced: waits'));
    await di.next((e) => e.attrs.from === D, 'the contact-request notice');
    await di.expectNone(is.message(bare('cy')), 'the held message', 200);

    writeConfig('[policy.modes]\nstranger = "monitor"\n');
    assert.equal(await cli('policy', 'reload'), 'threat policy reloaded\n');
    const ed = await online('ed');
    ed.send(chat(bare('di'), 'monitored: arrives'));
    // Delivered (the classifier may label a stranger's first words; it still arrives).
    const got = await di.next(is.message(bare('ed')), 'the message in monitor mode');
    assert.match(got.getChildText('body') ?? '', /monitored: arrives$/);
    const rows = (await cli('events', 'export', '--since', '10m'))
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { rule: string; actor: string; evidence?: Record<string, unknown> },
      );
    const monitored = rows.find((e) => e.rule === 'stranger' && e.actor.startsWith(bare('ed')));
    assert.equal(monitored?.evidence?.monitor, true);
    assert.equal(monitored?.evidence?.wouldBe, 'hold');

    writeConfig('[policy.modes]\nstranger = "sometimes"\n');
    const bad = await server.cli(['policy', 'reload']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /policy\.modes\.stranger.*"off", "monitor", "enforce".*sometimes/);
    assert.match(bad.stderr, /running one stays/);
    const flo = await online('flo');
    flo.send(chat(bare('di'), 'still monitored'));
    await di.next(is.message(bare('flo')), 'monitor mode survived');

    writeConfig('');
    process.kill(server.pid, 'SIGHUP');
    const deadline = Date.now() + 5000;
    while (!server.output().includes('SIGHUP: threat policy reloaded')) {
      assert.ok(Date.now() < deadline, `no reload after SIGHUP:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const gil = await online('gil');
    gil.send(chat(bare('di'), 'enforced again'));
    await di.next((e) => e.attrs.from === D, 'a notice, not the message');
    await di.expectNone(is.message(bare('gil')), 'the held message', 200);
  });
});

describe('quarantine (T1 escalation)', () => {
  it('an account that keeps approaching strangers is quarantined until `rampart user release`', async () => {
    const max = await online('max');
    max.send(chat(bare('ola'), 'hi 1')); // held: the one stranger allowed this hour
    max.send(chat(bare('pia'), 'hi 2', 'm2'));
    const refused = await max.next((e) => e.attrs.id === 'm2', 'over the limit');
    assert.equal(stanzaErrorOf(refused), 'policy-violation');
    max.send(chat(bare('quin'), 'hi 3'));
    const err = await max.streamError();
    assert.equal(err.condition, 'policy-violation');
    assert.match(err.text ?? '', /quarantined.*spam bots/);
    await assert.rejects(online('max'), /account-disabled.*quarantined/);
    const events = await cli('events', 'tail', '-n', '50');
    assert.match(events, /T1 quarantine quarantine max@localhost/);
    await cli('user', 'release', bare('max'));
    const back = await online('max');
    back.send(chat(bare('ola'), 'sorry'));
  });
});

describe('held messages and events on the command line', () => {
  it('held list / release / delete, and events stats', async () => {
    const ann = await online('ann');
    const bo = await online('bo');
    // A link whose host is an IP written as one decimal number: held for review, even between contacts.
    ann.send(chat(bare('bo'), 'look http://3405803777/a'));
    ann.send(chat(bare('bo'), 'and http://3405803778/b'));
    const told = await ann.next((e) => e.attrs.from === D, 'the sender is told');
    assert.match(told.getChildText('body') ?? '', /held for review/);
    await bo.expectNone(is.message(bare('ann')), 'held messages', 200);
    const rows = (await cli('held', 'list', '--kind', 'review'))
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.equal(rows.length, 2);
    assert.deepEqual(
      rows.map((r) => [r[1], r[3], r[4], r[5], r[6]]),
      [
        ['review', bare('ann'), bare('bo'), 'T2', 'url'],
        ['review', bare('ann'), bare('bo'), 'T2', 'url'],
      ],
    );
    assert.equal(await cli('held', 'release', rows[0]![0]!), 'released 1 message(s)\n');
    const released = await bo.next(is.message(bare('ann')), 'the released message');
    assert.equal(released.getChildText('body'), 'look http://3405803777/a');
    assert.ok(released.getChild('delay', NS_DELAY));
    assert.equal(await cli('held', 'delete', rows[1]![0]!), 'deleted 1 message(s)\n');
    assert.equal(await cli('held', 'list', '--kind', 'review'), '');
    const missing = await server.cli(['held', 'release', '999']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no held message with id 999/);

    const stats = await cli('events', 'stats', '--since', '1h');
    assert.match(stats, /^url\s+T2\s+2$/m);
    assert.match(stats, /^stranger\.limit\s+T1\s+\d+$/m);
    assert.match(stats, /hour \(UTC\)/);
  });
});

describe('events tail --follow', () => {
  it('prints an event recorded while it runs', async () => {
    const tail = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'rampart.mjs'),
        'events',
        'tail',
        '--follow',
        '-n',
        '0',
        '--data-dir',
        server.dataDir,
        '--config',
        join(server.dataDir, 'rampart.toml'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    tail.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    tail.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    try {
      const ready = Date.now() + 15_000;
      while (!err.includes('following new security events')) {
        assert.ok(Date.now() < ready, `tail --follow did not start: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(out, '', 'nothing old with -n 0');
      const ann = await online('ann');
      ann.send(chat(bare('bo'), 'see http://203.0.113.9/notes'));
      const deadline = Date.now() + 6000;
      while (!/ T2 url label ann@localhost\/\S+ -> bo@localhost /.test(out)) {
        assert.ok(Date.now() < deadline, `no event line from tail --follow: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      tail.kill('SIGTERM');
    }
  });
});
