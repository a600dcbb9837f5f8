import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ControlEvent } from '../../src/admin/control-socket.ts';
import { AdminError } from '../../src/admin/errors.ts';
import { type AdminOperations, createAdminOperations } from '../../src/admin/operations.ts';
import { loadConfig } from '../../src/config/load.ts';
import { openStorage } from '../../src/storage/open.ts';
import type { ScramCredential, Storage } from '../../src/storage/ports.ts';

// Stands in for PBKDF2 so the tests stay fast; real derivation is tested in test/auth.
async function fakeDerive(password: string, iterations: number): Promise<ScramCredential[]> {
  const tag = Buffer.from(password).toString('base64');
  return [{ hash: 'SHA-256', salt: 'c2FsdA==', iterations, storedKey: tag, serverKey: tag }];
}

describe('admin operations', () => {
  let dir: string;
  let storage: Storage;
  let events: ControlEvent[];
  let ops: AdminOperations;
  let failNotify: boolean;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-ops-'));
    storage = openStorage({ dataDir: dir });
    events = [];
    failNotify = false;
    const config = loadConfig({
      flags: { 'data-dir': dir },
      env: { RAMPART_AUTH__SCRAM_ITERATIONS: '4096' },
    });
    ops = createAdminOperations({
      storage,
      config,
      deriveCredentials: fakeDerive,
      notify: async (batch) => {
        if (failNotify) throw new Error('socket broke');
        events.push(...batch);
      },
    });
  });

  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rejectsWith = (promise: Promise<unknown>, code: string, message: string | RegExp) =>
    assert.rejects(promise, (err: unknown) => {
      assert.ok(err instanceof AdminError);
      assert.equal(err.code, code);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    });

  it('adds users with prepared JIDs and derived credentials', async () => {
    assert.deepEqual(await ops.addUser('Alice@LocalHost', 'correct horse'), {
      jid: 'alice@localhost',
    });
    const account = await storage.accounts.get('alice@localhost');
    assert.equal(account?.credentials[0]?.iterations, 4096);
    await rejectsWith(
      ops.addUser('alice@localhost', 'another one'),
      'exists',
      'user exists: alice@localhost',
    );
    assert.deepEqual(await ops.listUsers(), ['alice@localhost']);
    assert.deepEqual(events, []);
  });

  it('validates JIDs and the password policy', async () => {
    await rejectsWith(
      ops.addUser('bob@example.com', 'long enough'),
      'invalid',
      'unknown domain "example.com" (this server serves "localhost")',
    );
    await rejectsWith(ops.addUser('bob@localhost/phone', 'long enough'), 'invalid', /must be bare/);
    await rejectsWith(ops.addUser('localhost', 'long enough'), 'invalid', /has no localpart/);
    await rejectsWith(
      ops.addUser('b b@localhost', 'long enough'),
      'invalid',
      /^invalid JID "b b@localhost"/,
    );
    await rejectsWith(
      ops.addUser('bob@localhost', 'short'),
      'policy',
      'password fails policy: at least 8 characters',
    );
    await rejectsWith(
      ops.addUser('bob@localhost', 'x'.repeat(1025)),
      'policy',
      'password fails policy: at most 1024 characters',
    );
    await rejectsWith(
      ops.addUser('bobbybobby@localhost', 'BobbyBobby'),
      'policy',
      /must not be the same as the username/,
    );
    assert.deepEqual(await ops.listUsers(), []);
  });

  it('changes passwords and tells the server', async () => {
    await ops.addUser('alice@localhost', 'first password');
    await ops.setPassword('alice@localhost', 'second password');
    const account = await storage.accounts.get('alice@localhost');
    assert.equal(
      account?.credentials[0]?.storedKey,
      Buffer.from('second password').toString('base64'),
    );
    assert.deepEqual(events, [{ type: 'credentialsChanged', jid: 'alice@localhost' }]);
    await rejectsWith(
      ops.setPassword('nobody@localhost', 'whatever1'),
      'not-found',
      'no such user: nobody@localhost',
    );
  });

  it('releases a quarantined account and tells the server', async () => {
    await ops.addUser('alice@localhost', 'correct horse');
    await rejectsWith(
      ops.releaseUser('alice@localhost'),
      'invalid',
      'alice@localhost is not quarantined',
    );
    await rejectsWith(
      ops.releaseUser('nobody@localhost'),
      'not-found',
      'no such user: nobody@localhost',
    );
    await storage.accounts.setQuarantine('alice@localhost', 'worm fan-out');
    assert.deepEqual(await ops.releaseUser('Alice@LOCALHOST'), {
      jid: 'alice@localhost',
      reason: 'worm fan-out',
    });
    assert.equal((await storage.accounts.get('alice@localhost'))?.quarantinedReason, undefined);
    assert.deepEqual(events, [{ type: 'accountReleased', jid: 'alice@localhost' }]);
  });

  it('blocks, lists and unblocks artefacts, telling the server each time', async () => {
    const block = await ops.blockArtefact('hxxp://192.0.2.7:8180/', ' worm host ');
    assert.deepEqual(
      [block.kind, block.value, block.reason, block.source],
      ['url', 'http://192.0.2.7:8180/', 'worm host', 'admin'],
    );
    await ops.blockArtefact('Evil.Example');
    await rejectsWith(
      ops.blockArtefact('evil.example'),
      'exists',
      'already blocked: domain evil.example',
    );
    await rejectsWith(ops.blockArtefact('what is this?'), 'invalid', /not a URL/);
    assert.deepEqual(
      (await ops.listBlocks()).map((b) => `${b.kind} ${b.value} ${b.reason}`),
      ['url http://192.0.2.7:8180/ worm host', 'domain evil.example blocked by an administrator'],
    );
    await ops.unblockArtefact('evil.example');
    await rejectsWith(
      ops.unblockArtefact('evil.example'),
      'not-found',
      'not blocked: domain evil.example',
    );
    assert.deepEqual(events, [
      { type: 'artefactBlocked', kind: 'url', value: 'http://192.0.2.7:8180/' },
      { type: 'artefactBlocked', kind: 'domain', value: 'evil.example' },
      { type: 'artefactUnblocked', kind: 'domain', value: 'evil.example' },
    ]);
  });

  it('reports a failed notification after saving', async () => {
    await ops.addUser('alice@localhost', 'first password');
    failNotify = true;
    await rejectsWith(
      ops.setPassword('alice@localhost', 'second password'),
      'notify-failed',
      /^saved, but the running server was not told: socket broke$/,
    );
  });

  it('manages mutual contacts', async () => {
    await ops.addUser('alice@localhost', 'password1');
    await ops.addUser('bob@localhost', 'password2');
    await ops.addContact('alice@localhost', 'bob@localhost');
    const item = {
      subscription: 'both',
      askIn: false,
      askOut: false,
      preApproved: false,
      groups: [],
    };
    assert.deepEqual(await ops.listRoster('alice@localhost'), [
      { contact: 'bob@localhost', ...item },
    ]);
    assert.deepEqual(await ops.listRoster('bob@localhost'), [
      { contact: 'alice@localhost', ...item },
    ]);
    assert.deepEqual(events, [
      { type: 'rosterChanged', owner: 'alice@localhost', contact: 'bob@localhost' },
      { type: 'rosterChanged', owner: 'bob@localhost', contact: 'alice@localhost' },
    ]);
    await rejectsWith(
      ops.addContact('alice@localhost', 'carol@localhost'),
      'not-found',
      'no such user: carol@localhost',
    );
    await rejectsWith(
      ops.addContact('alice@localhost', 'alice@localhost'),
      'invalid',
      /own roster/,
    );

    events.length = 0;
    await ops.removeContact('bob@localhost', 'alice@localhost');
    assert.deepEqual(await ops.listRoster('alice@localhost'), []);
    assert.deepEqual(await ops.listRoster('bob@localhost'), []);
    assert.equal(events.length, 2);
    await rejectsWith(
      ops.removeContact('bob@localhost', 'alice@localhost'),
      'not-found',
      /no such contact/,
    );
  });

  it('keeps the name and groups of an existing item', async () => {
    await ops.addUser('alice@localhost', 'password1');
    await ops.addUser('bob@localhost', 'password2');
    await storage.roster.put('alice@localhost', {
      contact: 'bob@localhost',
      name: 'Bob',
      subscription: 'none',
      askIn: false,
      askOut: true,
      preApproved: false,
      groups: ['Team'],
    });
    await ops.addContact('alice@localhost', 'bob@localhost');
    const [item] = await ops.listRoster('alice@localhost');
    assert.equal(item?.subscription, 'both');
    assert.equal(item?.askOut, false);
    assert.equal(item?.name, 'Bob');
    assert.deepEqual(item?.groups, ['Team']);
  });

  it("removes a user from their contacts' rosters too", async () => {
    await ops.addUser('alice@localhost', 'password1');
    await ops.addUser('bob@localhost', 'password2');
    await ops.addContact('alice@localhost', 'bob@localhost');
    events.length = 0;
    await ops.removeUser('bob@localhost');
    assert.deepEqual(await ops.listUsers(), ['alice@localhost']);
    assert.deepEqual(await ops.listRoster('alice@localhost'), []);
    assert.deepEqual(events, [
      { type: 'rosterChanged', owner: 'alice@localhost', contact: 'bob@localhost' },
      { type: 'accountRemoved', jid: 'bob@localhost' },
    ]);
    await rejectsWith(ops.removeUser('bob@localhost'), 'not-found', 'no such user: bob@localhost');
  });

  it('imports users, skipping existing ones and reporting progress', async () => {
    await ops.addUser('u1@localhost', 'password1');
    const entries = Array.from({ length: 50 }, (_, i) => ({
      jid: `u${i}@localhost`,
      password: `password-${i}`,
      line: i + 1,
    }));
    const progress: number[] = [];
    const result = await ops.importUsers(entries, {
      onProgress: (done) => progress.push(done),
      concurrency: 4,
    });
    assert.equal(result.created, 49);
    assert.deepEqual(result.existing, ['u1@localhost']);
    assert.equal(progress.at(-1), 49);
    assert.equal((await ops.listUsers()).length, 50);
  });

  it('refuses the whole import on one bad line', async () => {
    const entries = [
      { jid: 'a@localhost', password: 'password1', line: 2 },
      { jid: 'b@localhost', password: 'short', line: 3 },
    ];
    await rejectsWith(
      ops.importUsers(entries),
      'invalid',
      'bad CSV line 3: password fails policy: at least 8 characters',
    );
    await rejectsWith(
      ops.importUsers([entries[0]!, { jid: 'a@localhost', password: 'password2', line: 7 }]),
      'invalid',
      'bad CSV line 7: a@localhost is already listed on line 2',
    );
    await rejectsWith(
      ops.importUsers([{ jid: 'x@elsewhere', password: 'password1' }]),
      'invalid',
      /^bad entry 1: unknown domain/,
    );
    assert.deepEqual(await ops.listUsers(), []);
  });

  it('imports contact pairs', async () => {
    for (const name of ['a', 'b', 'c']) await ops.addUser(`${name}@localhost`, 'password1');
    const result = await ops.importRoster([
      { jid: 'a@localhost', contact: 'b@localhost', line: 1 },
      { jid: 'a@localhost', contact: 'c@localhost', line: 2 },
    ]);
    assert.equal(result.pairs, 2);
    assert.deepEqual((await ops.listRoster('a@localhost')).map((i) => i.contact).sort(), [
      'b@localhost',
      'c@localhost',
    ]);
    assert.equal((await ops.listRoster('c@localhost'))[0]?.contact, 'a@localhost');
    assert.equal(events.length, 4);
    await rejectsWith(
      ops.importRoster([{ jid: 'a@localhost', contact: 'zed@localhost', line: 9 }]),
      'invalid',
      'bad CSV line 9: no such user: zed@localhost',
    );
  });
});
