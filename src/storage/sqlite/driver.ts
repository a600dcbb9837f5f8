/**
 * The small part of a SQLite binding that the repositories use, so they run on Node's built-in
 * `node:sqlite` (Node 22.13+, no native addon) or on better-sqlite3 (Node 20, where there is
 * no built-in). better-sqlite3 12 aborts the process on Node 24 when a statement is garbage
 * collected, so it is only loaded when the built-in is missing or a test forces it.
 */
import { openBetterSqliteDriver, probeBetterSqlite } from './driver-better.ts';
import { loadNodeSqlite, openNodeSqliteDriver } from './driver-node.ts';

/** What a parameter can be bound to. Numbers bind as REAL; INTEGER columns store them exactly. */
export type SqlValue = string | number | bigint | null | Uint8Array;

export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/**
 * A prepared statement. `P` is the positional parameter list, or `[Record<string, SqlValue>]`
 * for named parameters (`@name` in the SQL, key `name` without the prefix). Rows are plain
 * objects keyed by column name.
 */
export interface Statement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
  /** Switches this statement to return each row's first column instead of the row. */
  pluck(): Statement<P, R>;
}

export type TransactionMode = 'deferred' | 'immediate';

export interface SqliteDriver {
  readonly name: SqliteDriverName;
  /** False once closed. */
  readonly open: boolean;
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): Statement<P, R>;
  exec(sql: string): void;
  /** Runs `PRAGMA <text>` and returns the first column of the first row it yields, if any. */
  pragma(text: string): unknown;
  /**
   * Wraps `fn` so each call runs in one transaction: committed when it returns, rolled back when
   * it throws. `immediate` takes the write lock at BEGIN, so busy_timeout applies to a concurrent
   * writer rather than failing later on a lock upgrade. Called inside another transaction, it
   * becomes a savepoint (mode ignored), so only its own work is undone when it throws.
   */
  transaction<A extends unknown[], T>(
    fn: (...args: A) => T,
    mode?: TransactionMode,
  ): (...args: A) => T;
  /** Closing twice is allowed. */
  close(): void;
}

export const sqliteDriverNames = ['node', 'better-sqlite3'] as const;
export type SqliteDriverName = (typeof sqliteDriverNames)[number];

export const DRIVER_ENV = 'RAMPART_SQLITE_DRIVER';

export interface OpenDriverOptions {
  /** Overrides both the environment and the automatic choice (tests). */
  driver?: SqliteDriverName;
  readonly?: boolean;
}

/** Why a driver cannot run in this Node, or undefined when it can. */
export function sqliteDriverUnavailableReason(name: SqliteDriverName): string | undefined {
  if (name === 'node') {
    return loadNodeSqlite() === undefined
      ? `node:sqlite is not built into Node ${process.versions.node} (it needs 22.13 or later)`
      : undefined;
  }
  return probeBetterSqlite();
}

function isDriverName(value: string): value is SqliteDriverName {
  return (sqliteDriverNames as readonly string[]).includes(value);
}

/** The driver to use: forced by `options.driver` or the environment, else node:sqlite if any. */
export function chooseSqliteDriver(options: OpenDriverOptions = {}): SqliteDriverName {
  const forced = options.driver ?? process.env[DRIVER_ENV];
  if (forced !== undefined && forced !== '') {
    if (!isDriverName(forced)) {
      throw new Error(
        `${DRIVER_ENV}=${forced} is not a SQLite driver: use ${sqliteDriverNames.join(' or ')}`,
      );
    }
    const reason = sqliteDriverUnavailableReason(forced);
    if (reason !== undefined) {
      throw new Error(
        `SQLite driver '${forced}' (from ${DRIVER_ENV} or options) cannot run: ${reason}`,
      );
    }
    return forced;
  }
  return loadNodeSqlite() === undefined ? 'better-sqlite3' : 'node';
}

/** Opens the database file at `path` (or ':memory:') with the chosen driver. */
export function openSqliteDriver(path: string, options: OpenDriverOptions = {}): SqliteDriver {
  const readonly = options.readonly ?? false;
  return chooseSqliteDriver(options) === 'node'
    ? openNodeSqliteDriver(path, readonly)
    : openBetterSqliteDriver(path, readonly);
}
