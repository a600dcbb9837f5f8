import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type OpenDriverOptions, openSqliteDriver, type SqliteDriver } from './driver.ts';

export type SqliteDatabase = SqliteDriver;

/** Opens the database file (creating its directory) with the pragmas Rampart relies on. */
export function openDatabase(path: string, options: OpenDriverOptions = {}): SqliteDatabase {
  if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
  const db = openSqliteDriver(path, options);
  try {
    // The CLI and the server share the file; wait for the other's write lock instead of failing.
    // (Both drivers already open with this timeout, so the WAL switch below waits too.)
    db.pragma('busy_timeout = 5000');
    // WAL lets the CLI (another process) read and write while the server runs: readers never
    // block the writer and the writer never blocks readers.
    db.pragma('journal_mode = WAL');
    // With WAL, NORMAL still makes every commit durable against a crash of the process: the
    // commit is in the WAL file, held by the OS. Only a power loss or OS crash can lose the last
    // few commits (the database stays consistent). FULL would fsync the WAL on every commit to
    // survive those too, at the cost of one fsync per offline message or roster change.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
