/**
 * The SQLite driver on better-sqlite3, for Node 20 (no node:sqlite there). An optional
 * dependency loaded only when this driver is chosen, so Node 22/24 never load its native addon.
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDriver, Statement, TransactionMode } from './driver.ts';

type Constructor = typeof BetterSqlite3;

const require = createRequire(import.meta.url);
let probed: { ok: Constructor } | { reason: string } | undefined;

/** better-sqlite3 up to 12 aborts the process on Node 24 when it frees a statement. */
function refusedOnThisNode(): string | undefined {
  const node = Number(process.versions.node.split('.')[0]);
  if (node < 24) return undefined;
  const { version } = require('better-sqlite3/package.json') as { version: string };
  return Number(version.split('.')[0]) < 13
    ? `better-sqlite3 ${version} aborts the process on Node ${node} (13 fixes it); use node:sqlite`
    : undefined;
}

function load(): { ok: Constructor } | { reason: string } {
  probed ??= tryLoad();
  return probed;
}

function tryLoad(): { ok: Constructor } | { reason: string } {
  try {
    const refused = refusedOnThisNode();
    if (refused !== undefined) return { reason: refused };
    const Database = require('better-sqlite3') as Constructor;
    // The addon itself loads on the first open: a build for another Node fails here, not later.
    new Database(':memory:').close();
    return { ok: Database };
  } catch (err) {
    const code = (err as { code?: string }).code;
    return {
      reason:
        code === 'MODULE_NOT_FOUND'
          ? 'better-sqlite3 is not installed (on Node 20 run `npm install better-sqlite3`, or use Node 22.13+)'
          : `better-sqlite3 cannot load: ${(err as Error).message.replace(/\s+/g, ' ')}`,
    };
  }
}

/** Why better-sqlite3 cannot run here, or undefined when it can. */
export function probeBetterSqlite(): string | undefined {
  const result = load();
  return 'reason' in result ? result.reason : undefined;
}

export function openBetterSqliteDriver(path: string, readonly: boolean): SqliteDriver {
  const result = load();
  if ('reason' in result) throw new Error(result.reason);
  // timeout is better-sqlite3's default busy wait, written out to match the node:sqlite driver.
  const db = new result.ok(path, { readonly, timeout: 5000 });
  return {
    name: 'better-sqlite3',
    get open() {
      return db.open;
    },
    prepare<P extends unknown[], R>(sql: string): Statement<P, R> {
      const stmt = db.prepare<P, R>(sql);
      const self: Statement<P, R> = {
        run(...params: P) {
          const r = stmt.run(...params);
          return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
        },
        get: (...params: P) => stmt.get(...params),
        all: (...params: P) => stmt.all(...params),
        pluck() {
          stmt.pluck();
          return self;
        },
      };
      return self;
    },
    exec(sql: string) {
      db.exec(sql);
    },
    pragma: (text: string) => db.pragma(text, { simple: true }),
    transaction<A extends unknown[], T>(fn: (...args: A) => T, mode: TransactionMode = 'deferred') {
      // better-sqlite3 nests a transaction called inside another as a savepoint, as required.
      const tx = db.transaction(fn);
      return mode === 'immediate' ? tx.immediate : tx.deferred;
    },
    close() {
      if (db.open) db.close();
    },
  };
}
