import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  chooseSqliteDriver,
  DRIVER_ENV,
  openSqliteDriver,
  type SqliteDriver,
  sqliteDriverNames,
  sqliteDriverUnavailableReason,
} from '../../src/storage/sqlite/driver.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { runStorageContract } from './storage.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'rampart-drivers-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `db-${n++}.db`);

const unavailable = new Map(sqliteDriverNames.map((d) => [d, sqliteDriverUnavailableReason(d)]));

it('at least one SQLite driver runs in this Node', () => {
  assert.ok(
    [...unavailable.values()].some((reason) => reason === undefined),
    JSON.stringify(Object.fromEntries(unavailable)),
  );
});

for (const driver of sqliteDriverNames) {
  const skip = unavailable.get(driver);
  if (skip !== undefined) {
    describe(`SQLite driver ${driver}`, () => {
      it('runs the storage contract', {
        skip: `not in Node ${process.version}: ${skip}`,
      }, () => {});
    });
    continue;
  }

  runStorageContract(`sqlite file via ${driver}`, () => openSqliteStorage(freshPath(), { driver }));

  describe(`SQLite driver ${driver}`, () => {
    const withDb = (fn: (db: SqliteDriver) => void) => () => {
      const db = openSqliteDriver(':memory:', { driver });
      try {
        assert.equal(db.name, driver);
        db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL)');
        fn(db);
      } finally {
        db.close();
      }
    };

    it(
      'binds positional and named parameters and returns plain rows',
      withDb((db) => {
        const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
        const first = insert.run('a');
        assert.deepEqual(first, { changes: 1, lastInsertRowid: 1 });
        assert.equal(typeof first.lastInsertRowid, 'number');
        insert.run('b');
        const named = db.prepare<[{ id: number; v: string }], { id: number; v: string }>(
          'SELECT id, v FROM t WHERE id >= @id AND v <> @v ORDER BY id',
        );
        const rows = named.all({ id: 1, v: 'a' });
        assert.deepEqual(rows, [{ id: 2, v: 'b' }]);
        assert.equal(Object.getPrototypeOf(rows[0]), Object.prototype);
        assert.deepEqual(named.get({ id: 1, v: 'zzz' }), { id: 1, v: 'a' });
        assert.equal(named.get({ id: 9, v: 'a' }), undefined);
      }),
    );

    it(
      'plucks the first column',
      withDb((db) => {
        db.exec("INSERT INTO t (v) VALUES ('x'), ('y')");
        const values = db.prepare<[], string>('SELECT v, id AS v FROM t ORDER BY id').pluck();
        assert.deepEqual(values.all(), ['x', 'y']);
        assert.equal(values.get(), 'x');
        const count = db.prepare<[string], number>('SELECT count(*) FROM t WHERE v = ?').pluck();
        assert.equal(count.get('nobody'), 0);
        assert.equal(
          db.prepare<[number], string>('SELECT v FROM t WHERE id = ?').pluck().get(99),
          undefined,
        );
      }),
    );

    it(
      'reads and writes pragmas',
      withDb((db) => {
        assert.equal(db.pragma('busy_timeout'), 5000);
        db.pragma('busy_timeout = 1234');
        assert.equal(db.pragma('busy_timeout'), 1234);
        assert.equal(db.pragma('optimize'), undefined);
      }),
    );

    it(
      'commits, rolls back on throw, and nests as a savepoint',
      withDb((db) => {
        const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
        const count = db.prepare<[], number>('SELECT count(*) FROM t').pluck();
        const add = db.transaction((v: string) => insert.run(v).changes, 'immediate');
        assert.equal(add('a'), 1);
        const failing = db.transaction((v: string) => {
          insert.run(v);
          throw new Error('boom');
        }, 'immediate');
        assert.throws(() => failing('b'), /boom/);
        assert.equal(count.get(), 1);
        const outer = db.transaction(() => {
          add('c');
          assert.throws(() => failing('d'), /boom/);
          return count.get();
        });
        assert.equal(outer(), 2);
        assert.equal(count.get(), 2);
        // The connection is usable for new transactions after all of that.
        assert.equal(add('e'), 1);
        assert.equal(count.get(), 3);
      }),
    );

    it('an IMMEDIATE transaction holds the write lock against a second connection', () => {
      const path = freshPath();
      const a = openSqliteDriver(path, { driver });
      const b = openSqliteDriver(path, { driver });
      try {
        a.pragma('journal_mode = WAL');
        a.exec('CREATE TABLE t (v TEXT)');
        b.pragma('busy_timeout = 0');
        const insertB = b.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
        a.transaction(() => {
          assert.throws(() => insertB.run('b'), /locked|busy/i);
        }, 'immediate')();
        insertB.run('b');
        assert.equal(a.prepare('SELECT v FROM t').pluck().get(), 'b');
      } finally {
        b.close();
        a.close();
      }
    });

    it('reports open, and close is safe twice', () => {
      const db = openSqliteDriver(':memory:', { driver });
      assert.equal(db.open, true);
      db.close();
      assert.equal(db.open, false);
      db.close();
    });
  });
}

describe('choosing the SQLite driver', () => {
  const withEnv = (value: string | undefined, fn: () => void) => {
    const saved = process.env[DRIVER_ENV];
    if (value === undefined) delete process.env[DRIVER_ENV];
    else process.env[DRIVER_ENV] = value;
    try {
      fn();
    } finally {
      if (saved === undefined) delete process.env[DRIVER_ENV];
      else process.env[DRIVER_ENV] = saved;
    }
  };

  it('prefers node:sqlite when this Node has it', () => {
    withEnv(undefined, () => {
      const expected = unavailable.get('node') === undefined ? 'node' : 'better-sqlite3';
      assert.equal(chooseSqliteDriver(), expected);
    });
  });

  it(`${DRIVER_ENV} forces a driver; an unknown one is an error naming the variable`, () => {
    for (const driver of sqliteDriverNames) {
      if (unavailable.get(driver) !== undefined) continue;
      withEnv(driver, () => assert.equal(chooseSqliteDriver(), driver));
    }
    withEnv('postgres', () =>
      assert.throws(
        () => openSqliteDriver(':memory:'),
        (err: Error) => err.message.includes(`${DRIVER_ENV}=postgres`),
      ),
    );
  });

  it('a forced driver that cannot run here is an error naming the variable', (t) => {
    const missing = sqliteDriverNames.find((d) => unavailable.get(d) !== undefined);
    if (missing === undefined) return t.skip('both drivers run in this Node');
    withEnv(missing, () =>
      assert.throws(
        () => openSqliteDriver(':memory:'),
        (err: Error) => err.message.includes(DRIVER_ENV) && err.message.includes(missing),
      ),
    );
  });

  it('never loads better-sqlite3 where node:sqlite is built in', (t) => {
    if (unavailable.get('node') !== undefined)
      return t.skip(`no node:sqlite in ${process.version}`);
    // A fresh process: this one has already probed better-sqlite3 to report its availability.
    const script = `
      import { createRequire } from 'node:module';
      const { openStorage } = await import('./src/storage/open.ts');
      const s = openStorage({ dataDir: ${JSON.stringify(join(dir, 'child'))} });
      await s.kv.set('a@b', 'k', 'v');
      await s.close();
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(loaded.filter((m) => m.includes('better-sqlite3'))));`;
    const env = { ...process.env };
    delete env[DRIVER_ENV];
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: join(import.meta.dirname, '..', '..'), env, encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), []);
    assert.doesNotMatch(child.stderr, /ExperimentalWarning: SQLite/);
  });
});
