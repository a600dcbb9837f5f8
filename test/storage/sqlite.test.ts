import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { NewAccount } from '../../src/storage/ports.ts';
import { openDatabase } from '../../src/storage/sqlite/connection.ts';
import { openSqliteDriver } from '../../src/storage/sqlite/driver.ts';
import { openSqliteStorage, SchemaTooNewError } from '../../src/storage/sqlite/index.ts';
import { latestSchemaVersion, migrations } from '../../src/storage/sqlite/migrations.ts';
import { runStorageContract } from './storage.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'rampart-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `db-${n++}.db`);

runStorageContract('sqlite file', () => openSqliteStorage(freshPath()));
runStorageContract('sqlite :memory:', () => openSqliteStorage(':memory:'));

describe('sqlite specifics', () => {
  it('sets WAL, NORMAL sync, foreign keys and a busy timeout', () => {
    const db = openDatabase(freshPath());
    try {
      assert.equal(db.pragma('journal_mode'), 'wal');
      assert.equal(db.pragma('synchronous'), 1); // NORMAL
      assert.equal(db.pragma('foreign_keys'), 1);
      assert.equal(db.pragma('busy_timeout'), 5000);
    } finally {
      db.close();
    }
  });

  it('leaves the file in WAL mode for other processes', async () => {
    const path = freshPath();
    const s = openSqliteStorage(path);
    const raw = openSqliteDriver(path, { readonly: true });
    try {
      assert.equal(raw.pragma('journal_mode'), 'wal');
    } finally {
      raw.close();
      await s.close();
    }
  });

  it('creates missing parent directories', async () => {
    const path = join(dir, 'nested', 'deeper', 'rampart.db');
    const s = openSqliteStorage(path);
    await s.close();
    assert.ok(existsSync(path));
  });

  it('a second connection (the CLI) sees writes at once, both ways', async () => {
    const path = freshPath();
    const server = openSqliteStorage(path);
    const cli = openSqliteStorage(path);
    try {
      await cli.accounts.create({ jid: 'alice@example.com', credentials: [] });
      assert.ok(await server.accounts.get('alice@example.com'));
      await server.offline.push('alice@example.com', '<message/>');
      assert.equal(await cli.offline.count('alice@example.com'), 1);
      await cli.accounts.setQuarantine('alice@example.com', 'admin');
      assert.equal((await server.accounts.get('alice@example.com'))?.quarantinedReason, 'admin');
      await cli.accounts.remove('alice@example.com');
      assert.equal(await server.offline.count('alice@example.com'), 0);
    } finally {
      await cli.close();
      await server.close();
    }
  });

  it('keeps data and migrates nothing twice across reopen', async () => {
    const path = freshPath();
    const first = openSqliteStorage(path);
    await first.accounts.create({ jid: 'alice@example.com', credentials: [] });
    await first.roster.put('alice@example.com', {
      contact: 'bob@example.com',
      subscription: 'both',
      askOut: false,
      askIn: false,
      preApproved: false,
      groups: [],
    });
    await first.close();
    for (let i = 0; i < 2; i++) {
      const again = openSqliteStorage(path);
      assert.ok(await again.accounts.get('alice@example.com'));
      assert.equal((await again.roster.get('alice@example.com')).version, 1);
      await again.close();
    }
    const raw = openSqliteDriver(path, { readonly: true });
    try {
      const versions = raw
        .prepare('SELECT version FROM schema_migrations ORDER BY version')
        .pluck()
        .all();
      assert.deepEqual(
        versions,
        migrations.map((m) => m.version),
      );
    } finally {
      raw.close();
    }
  });

  it('refuses a database written by a newer Rampart', async () => {
    const path = freshPath();
    await openSqliteStorage(path).close();
    const future = latestSchemaVersion() + 1;
    const raw = openSqliteDriver(path);
    raw
      .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
      .run(future, 'from the future', Date.now());
    raw.close();
    assert.throws(
      () => openSqliteStorage(path),
      (err: unknown) =>
        err instanceof SchemaTooNewError &&
        err.message.includes(`version ${future}`) &&
        err.message.includes(`up to ${latestSchemaVersion()}`),
    );
  });

  it('createMany inserts 10,000 accounts in well under a second', async () => {
    const s = openSqliteStorage(freshPath());
    try {
      const cred = {
        hash: 'SHA-256' as const,
        salt: 'c2FsdA==',
        iterations: 4096,
        storedKey: 'AAAA',
        serverKey: 'BBBB',
      };
      const accounts: NewAccount[] = Array.from({ length: 10_000 }, (_, i) => ({
        jid: `user${i}@example.com`,
        credentials: [cred],
      }));
      const start = performance.now();
      const result = await s.accounts.createMany(accounts);
      const ms = performance.now() - start;
      assert.equal(result.created, 10_000);
      assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
      assert.equal((await s.accounts.list('example.com')).length, 10_000);
    } finally {
      await s.close();
    }
  });

  it('close is safe to call twice', async () => {
    const s = openSqliteStorage(':memory:');
    await s.close();
    await s.close();
  });
});
