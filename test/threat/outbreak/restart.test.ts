import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RawClient, stanzaErrorOf, x } from '../../helpers/raw-client.ts';
import { type RampartProcess, startRampart, withServerLog } from '../../helpers/server.ts';

// A block made while the server is down (`rampart threat block` on its data directory) is
// applied at the next start: the copy waiting in offline storage is purged, and the blocked
// link is refused from then on, across restarts.

const PASSWORD = 'restart tests 1';
const D = 'localhost';
const LINK = 'https://cheap-pics.net/a/91';
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-outbreak-restart-'));
const servers: RampartProcess[] = [];
const clients: RawClient[] = [];

async function login(server: RampartProcess, username: string): Promise<RawClient> {
  const c = await RawClient.login({
    port: server.ports.c2sTls,
    directTls: true,
    username,
    password: PASSWORD,
  });
  clients.push(c);
  c.send(x('presence'));
  await c.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: 'urn:xmpp:ping' })));
  return c;
}

describe('threat blocks across a restart', () => {
  after(async () => {
    for (const c of clients) c.destroy();
    for (const s of servers) await s.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a block made while the server was down purges at start and survives', async () => {
    const first = await startRampart({ dataDir });
    servers.push(first);
    await withServerLog(first, async () => {
      const users = ['alice', 'bob'].map((u) => `${u}@${D},${PASSWORD}`).join('\n');
      assert.equal((await first.cli(['user', 'import', '-'], users)).code, 0);
      await first.addContacts('alice', 'bob');
      const alice = await login(first, 'alice');
      alice.send(x('message', { to: `bob@${D}`, type: 'chat', id: 'm1' }, x('body', {}, LINK)));
      await alice.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: 'urn:xmpp:ping' })));
    });
    await first.stop();

    const blocked = await first.cli(['threat', 'block', 'cheap-pics.net']);
    assert.equal(blocked.code, 0, blocked.stderr);

    const second = await startRampart({ dataDir });
    servers.push(second);
    await withServerLog(second, async () => {
      const bob = await login(second, 'bob');
      await bob.expectNone((el) => el.name === 'message', 'the purged offline copy', 800);
      const events = (await second.cli(['events', 'export'])).stdout.trim().split('\n');
      const purge = events
        .map((l) => JSON.parse(l) as { rule: string; evidence?: Record<string, unknown> })
        .find((e) => e.rule === 'purge.admin');
      assert.equal(purge?.evidence?.removedOffline, 1, 'the waiting copy was deleted at start');
      const alice = await login(second, 'alice');
      alice.send(x('message', { to: `bob@${D}`, type: 'chat', id: 'm2' }, x('body', {}, LINK)));
      const refused = await alice.next(
        (el) => el.attrs.type === 'error' && el.attrs.id === 'm2',
        'the refusal',
      );
      assert.equal(stanzaErrorOf(refused), 'policy-violation');
    });
  });
});
