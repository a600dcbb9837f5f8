/** The SQLite driver on Node's built-in `node:sqlite` (Node 22.13+ and 23.4+, unflagged). */
import { createRequire } from 'node:module';
import type { RunResult, SqliteDriver, Statement, TransactionMode } from './driver.ts';

// The subset of node:sqlite used here, typed locally: @types/node 20 does not describe it.
type Row = Record<string, unknown>;
interface NodeStatement {
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  setAllowBareNamedParameters?(enabled: boolean): void;
  setReturnArrays?(enabled: boolean): void;
}
interface NodeDatabase {
  prepare(sql: string): NodeStatement;
  exec(sql: string): void;
  close(): void;
}
interface NodeSqliteModule {
  DatabaseSync: new (
    path: string,
    options?: { readOnly?: boolean; timeout?: number },
  ) => NodeDatabase;
}

let loaded: NodeSqliteModule | null | undefined;

/** Loads node:sqlite without waiting (callers open databases synchronously); undefined if absent. */
export function loadNodeSqlite(): NodeSqliteModule | undefined {
  if (loaded === undefined) loaded = tryLoad() ?? null;
  return loaded ?? undefined;
}

function tryLoad(): NodeSqliteModule | undefined {
  const quiet = <T>(load: () => T): T | undefined => {
    try {
      return withoutSqliteWarning(load);
    } catch {
      return undefined;
    }
  };
  // getBuiltinModule (Node 20.16+, 22.3+) answers undefined for a built-in this Node lacks;
  // without it, require throws instead.
  const mod =
    quiet(() => process.getBuiltinModule?.('node:sqlite') as unknown) ??
    quiet(() => createRequire(import.meta.url)('node:sqlite') as unknown);
  const candidate = mod as Partial<NodeSqliteModule> | undefined;
  return typeof candidate?.DatabaseSync === 'function'
    ? (candidate as NodeSqliteModule)
    : undefined;
}

/**
 * Node 22 warns on stderr that SQLite is experimental the first time node:sqlite loads. Rampart
 * chose it on purpose and the operator can do nothing about it, so only that one warning is
 * dropped (it is emitted synchronously during the load); every other warning passes through.
 */
function withoutSqliteWarning<T>(load: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    const option = rest[0];
    const type = typeof option === 'string' ? option : (option as { type?: string })?.type;
    if (type === 'ExperimentalWarning' && text.startsWith('SQLite ')) return;
    Reflect.apply(emit, process, [warning, ...rest]);
  }) as typeof process.emitWarning;
  try {
    return load();
  } finally {
    process.emitWarning = emit;
  }
}

/** node:sqlite rows have a null prototype; the repositories hand rows out, so make them plain. */
const plain = (row: unknown): unknown => (row === undefined ? undefined : { ...(row as Row) });

function wrapStatement<P extends unknown[], R>(stmt: NodeStatement): Statement<P, R> {
  // `@name` in the SQL binds from key `name`, as in better-sqlite3 (the default since 22.6;
  // set anyway so a changed default cannot break the repositories).
  stmt.setAllowBareNamedParameters?.(true);
  let pluck = false;
  let byPosition = false;
  const value = (row: unknown): unknown => {
    if (!pluck || row === undefined) return plain(row);
    // setReturnArrays (22.16+) gives the first column even when two columns share a name.
    return byPosition ? (row as unknown[])[0] : Object.values(row as Row)[0];
  };
  const self: Statement<P, R> = {
    run(...params: P): RunResult {
      const r = stmt.run(...params);
      // lastInsertRowid is a bigint under setReadBigInts; Rampart's ids are small.
      return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
    },
    get: (...params: P) => value(stmt.get(...params)) as R | undefined,
    all: (...params: P) => stmt.all(...params).map(value) as R[],
    pluck() {
      pluck = true;
      if (stmt.setReturnArrays !== undefined) {
        stmt.setReturnArrays(true);
        byPosition = true;
      }
      return self;
    },
  };
  return self;
}

export function openNodeSqliteDriver(path: string, readonly: boolean): SqliteDriver {
  const sqlite = loadNodeSqlite();
  if (sqlite === undefined)
    throw new Error(`node:sqlite is not available in Node ${process.version}`);
  // timeout = busy_timeout from the start (better-sqlite3's default too), before any pragma runs.
  const db = new sqlite.DatabaseSync(path, { readOnly: readonly, timeout: 5000 });
  let open = true;
  let depth = 0;
  let savepoints = 0;

  const rollbackQuietly = (sql: string) => {
    try {
      db.exec(sql);
    } catch {
      // SQLite already rolled the whole transaction back (e.g. SQLITE_FULL, or a failed COMMIT
      // under some errors); the original error is what the caller needs to see.
    }
  };

  return {
    name: 'node',
    get open() {
      return open;
    },
    prepare: <P extends unknown[], R>(sql: string) => wrapStatement<P, R>(db.prepare(sql)),
    exec: (sql: string) => db.exec(sql),
    pragma(text: string): unknown {
      const row = db.prepare(`PRAGMA ${text}`).get() as Row | undefined;
      return row === undefined ? undefined : Object.values(row)[0];
    },
    transaction<A extends unknown[], T>(fn: (...args: A) => T, mode: TransactionMode = 'deferred') {
      return (...args: A): T => {
        const nested = depth > 0;
        const name = `rampart_sp${++savepoints}`;
        if (nested) db.exec(`SAVEPOINT ${name}`);
        else db.exec(mode === 'immediate' ? 'BEGIN IMMEDIATE' : 'BEGIN');
        depth++;
        try {
          const result = fn(...args);
          if (result instanceof Promise) {
            throw new TypeError('a SQLite transaction function must not return a promise');
          }
          db.exec(nested ? `RELEASE ${name}` : 'COMMIT');
          return result;
        } catch (err) {
          if (nested) rollbackQuietly(`ROLLBACK TO ${name}; RELEASE ${name}`);
          else rollbackQuietly('ROLLBACK');
          throw err;
        } finally {
          depth--;
        }
      };
    },
    close() {
      if (!open) return;
      db.close();
      open = false;
    },
  };
}
