import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteDriver } from '../../src/storage/sqlite/driver.ts';
import { is, RawClient, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/**
 * Token buckets (T5): an account that floods is slowed, not cut off, and nothing it sent is
 * lost; its allowance is per account, so more connections do not buy more throughput.
 */
const PASSWORD = 'rate limits pw 1';
const ACCOUNT_RATE = 20;
const ACCOUNT_BURST = 10;

let server: RampartProcess;
const clients: RawClient[] = [];

async function login(username: string, resource: string): Promise<RawClient> {
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

before(async () => {
  server = await startRampart({
    authTable: '[auth]\nscram_iterations = 4096\n',
    config: [
      '[limits]',
      // Sessions alone would allow far more: the account bucket is what must bite.
      'session_stanzas_per_s = 1000',
      'session_stanza_burst = 1000',
      `account_stanzas_per_s = ${ACCOUNT_RATE}`,
      `account_stanza_burst = ${ACCOUNT_BURST}`,
    ].join('\n'),
  });
  const r = await server.cli(
    ['user', 'import', '-'],
    ['flooder', 'sink'].map((u) => `${u}@localhost,${PASSWORD}`).join('\n'),
  );
  assert.equal(r.code, 0, r.stderr);
  await server.addContacts('flooder', 'sink');
});

after(async () => {
  for (const c of clients) c.close();
  await server?.stop();
});

describe('per-account stanza bucket', () => {
  it('paces an account flooding from two connections, delivers every message, records an event', async () => {
    const sink = await login('sink', 'r');
    sink.send('<presence/>');
    const a = await login('flooder', 'one');
    const b = await login('flooder', 'two');
    const perConnection = 30;
    const started = Date.now();
    for (let i = 0; i < perConnection; i++) {
      a.send(x('message', { to: sink.jid!, type: 'chat' }, x('body', {}, `one ${i}`)));
      b.send(x('message', { to: sink.jid!, type: 'chat' }, x('body', {}, `two ${i}`)));
    }
    // Every message arrives, in order per connection.
    for (let i = 0; i < perConnection; i++) {
      await sink.next(is.message(undefined, `one ${i}`), `one ${i}`, 15_000);
    }
    for (let i = 0; i < perConnection; i++) {
      await sink.next(is.message(undefined, `two ${i}`), `two ${i}`, 15_000);
    }
    const elapsed = Date.now() - started;
    // The person is told in plain words, from the server's domain, at least once.
    const notices = [...a.pending(), ...b.pending()].filter(
      (el) =>
        el.name === 'message' &&
        el.attrs.from === 'localhost' &&
        el.getChild('notice', 'urn:rampart:notice:0')?.attrs.rule === 'rate.account-stanzas',
    );
    assert.ok(notices.length >= 1, 'a rate-limit notice to the flooding account');
    assert.match(notices[0]?.getChildText('body') ?? '', /sending faster than this server allows/);
    // 60 stanzas (plus the two sessions' bind/presence) against 20/s after a burst of 10:
    // at least (60 - 10) / 20 = 2.5 s, whatever the number of connections.
    const floor = ((2 * perConnection - ACCOUNT_BURST) / ACCOUNT_RATE) * 1000;
    assert.ok(elapsed >= floor * 0.9, `took ${elapsed} ms, expected at least ${floor} ms`);

    const db = openSqliteDriver(join(server.dataDir, 'rampart.db'), { readonly: true });
    try {
      const rows = db
        .prepare<[], { threat: string; verdict: string; actor: string }>(
          "SELECT threat, verdict, actor FROM security_events WHERE rule = 'rate.account-stanzas'",
        )
        .all();
      assert.ok(rows.length >= 1, 'a rate.account-stanzas event');
      assert.equal(rows[0]?.threat, 'T5');
      assert.equal(rows[0]?.verdict, 'delay');
      assert.match(rows[0]?.actor ?? '', /^flooder@localhost\//);
    } finally {
      db.close();
    }
  });
});
