import { join } from 'node:path';
import type { Storage } from './ports.ts';
import { openSqliteStorage } from './sqlite/index.ts';

export interface StorageOptions {
  /** Directory for the embedded database file (rampart.db). */
  dataDir: string;
  // Later: `url?: string` ("postgres://..."); when set, open storage/postgres instead.
}

/** Chooses and opens the storage backend. Today: SQLite in the data directory. */
export function openStorage(opts: StorageOptions): Storage {
  // The PostgreSQL adapter plugs in here, selected by a URL option, before the SQLite default.
  return openSqliteStorage(join(opts.dataDir, 'rampart.db'));
}
