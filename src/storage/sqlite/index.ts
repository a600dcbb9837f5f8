import type { Storage } from '../ports.ts';
import { SqliteAccountStore } from './accounts.ts';
import { openDatabase } from './connection.ts';
import type { OpenDriverOptions } from './driver.ts';
import { SqliteSecurityEventStore } from './events.ts';
import { SqliteFileStore } from './files.ts';
import { SqliteHeldMessageStore } from './held.ts';
import { SqliteKeyValueStore } from './kv.ts';
import { migrate } from './migrations.ts';
import { SqliteOfflineStore } from './offline.ts';
import { SqlitePubsubStore } from './pubsub.ts';
import { SqliteRosterStore } from './roster.ts';
import { SqliteDeliveryLogStore, SqliteThreatBlockStore } from './threat.ts';

export { SchemaTooNewError } from './migrations.ts';

/**
 * Opens (creating and migrating as needed) the embedded database; ':memory:' is allowed.
 * `options.driver` picks the SQLite binding (tests); by default see openSqliteDriver.
 */
export function openSqliteStorage(path: string, options: OpenDriverOptions = {}): Storage {
  const db = openDatabase(path, options);
  try {
    migrate(db);
    const offline = new SqliteOfflineStore(db);
    const deliveries = new SqliteDeliveryLogStore(db);
    return {
      kind: 'sqlite',
      accounts: new SqliteAccountStore(db),
      roster: new SqliteRosterStore(db),
      offline,
      events: new SqliteSecurityEventStore(db),
      kv: new SqliteKeyValueStore(db),
      pubsub: new SqlitePubsubStore(db),
      files: new SqliteFileStore(db),
      threatBlocks: new SqliteThreatBlockStore(db),
      deliveries,
      held: new SqliteHeldMessageStore(db),
      async close() {
        if (!db.open) return;
        offline.flush();
        deliveries.flush();
        // Keeps query-planner statistics fresh; cheap, and SQLite recommends it before closing.
        db.pragma('optimize');
        // Closing the last connection checkpoints the WAL into the main file.
        db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
