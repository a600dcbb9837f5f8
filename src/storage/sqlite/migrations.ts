import type { SqliteDatabase } from './connection.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: never edit a migration that has shipped, add the next version instead. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE accounts (
        jid TEXT PRIMARY KEY NOT NULL,
        created_at INTEGER NOT NULL,
        credentials TEXT NOT NULL,
        quarantined_reason TEXT
      ) WITHOUT ROWID;

      CREATE TABLE roster_items (
        owner TEXT NOT NULL,
        contact TEXT NOT NULL,
        name TEXT,
        subscription TEXT NOT NULL CHECK (subscription IN ('none', 'to', 'from', 'both')),
        ask_out INTEGER NOT NULL DEFAULT 0,
        ask_in INTEGER NOT NULL DEFAULT 0,
        pre_approved INTEGER NOT NULL DEFAULT 0,
        groups TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (owner, contact)
      ) WITHOUT ROWID;

      CREATE TABLE roster_versions (
        owner TEXT PRIMARY KEY NOT NULL,
        version INTEGER NOT NULL
      ) WITHOUT ROWID;

      -- AUTOINCREMENT: ids are never reused, so a delivered-and-removed id cannot come back.
      CREATE TABLE offline_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner TEXT NOT NULL,
        stanza TEXT NOT NULL,
        stored_at INTEGER NOT NULL
      );
      CREATE INDEX offline_messages_owner_id ON offline_messages (owner, id);

      -- AUTOINCREMENT: "afterId" paging stays correct after old events are pruned.
      CREATE TABLE security_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time INTEGER NOT NULL,
        threat TEXT NOT NULL,
        rule TEXT NOT NULL,
        actor TEXT NOT NULL,
        target TEXT,
        address TEXT,
        verdict TEXT NOT NULL,
        evidence TEXT
      );
      CREATE INDEX security_events_time ON security_events (time);
      CREATE INDEX security_events_rule ON security_events (rule);
      CREATE INDEX security_events_actor ON security_events (actor);

      CREATE TABLE kv (
        owner TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (owner, key)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'pep nodes and items',
    sql: `
      CREATE TABLE pubsub_nodes (
        owner TEXT NOT NULL,
        node TEXT NOT NULL,
        config TEXT NOT NULL,
        PRIMARY KEY (owner, node)
      ) WITHOUT ROWID;

      -- seq orders items by publication; republishing an id gives it a new seq.
      CREATE TABLE pubsub_items (
        owner TEXT NOT NULL,
        node TEXT NOT NULL,
        item_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        payload TEXT NOT NULL,
        publisher TEXT NOT NULL,
        published_at INTEGER NOT NULL,
        PRIMARY KEY (owner, node, item_id),
        FOREIGN KEY (owner, node) REFERENCES pubsub_nodes (owner, node) ON DELETE CASCADE
      ) WITHOUT ROWID;
      CREATE INDEX pubsub_items_seq ON pubsub_items (owner, node, seq);
    `,
  },
  {
    version: 3,
    name: 'uploaded files',
    sql: `
      CREATE TABLE uploaded_files (
        id TEXT PRIMARY KEY NOT NULL,
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        status TEXT NOT NULL
          CHECK (status IN ('slot', 'uploading', 'scanning', 'clean', 'quarantined')),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        sha256 TEXT,
        detected_type TEXT,
        wrapped_key TEXT,
        verdict_rule TEXT,
        verdict_reason TEXT
      ) WITHOUT ROWID;
      CREATE INDEX uploaded_files_owner ON uploaded_files (owner, expires_at);
      CREATE INDEX uploaded_files_expires ON uploaded_files (expires_at);
      CREATE INDEX uploaded_files_sha256 ON uploaded_files (sha256);
    `,
  },
  {
    version: 4,
    name: 'threat blocks and delivery log',
    sql: `
      CREATE TABLE threat_blocks (
        kind TEXT NOT NULL CHECK (kind IN ('url', 'domain', 'sha256', 'file')),
        value TEXT NOT NULL,
        reason TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('admin', 'outbreak')),
        created_at INTEGER NOT NULL,
        purged_at INTEGER,
        PRIMARY KEY (kind, value)
      ) WITHOUT ROWID;

      CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        stanza_id TEXT NOT NULL,
        message_id TEXT,
        sender TEXT NOT NULL,
        recipient TEXT NOT NULL,
        time INTEGER NOT NULL
      );
      CREATE INDEX deliveries_time ON deliveries (time);

      -- One row per artefact of a delivery, so a newly bad artefact finds its copies by index.
      CREATE TABLE delivery_artefacts (
        artefact TEXT NOT NULL,
        delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        PRIMARY KEY (artefact, delivery_id)
      ) WITHOUT ROWID;
      CREATE INDEX delivery_artefacts_delivery ON delivery_artefacts (delivery_id);
    `,
  },
  {
    version: 5,
    name: 'held messages',
    sql: `
      -- Messages the threat engine kept: contact requests from strangers, holds for review.
      CREATE TABLE held_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner TEXT NOT NULL,
        sender TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('request', 'review')),
        stanza TEXT NOT NULL,
        threat TEXT,
        rule TEXT NOT NULL,
        reason TEXT NOT NULL,
        held_at INTEGER NOT NULL
      );
      CREATE INDEX held_messages_owner ON held_messages (owner, sender, id);
      CREATE INDEX held_messages_held_at ON held_messages (held_at);
    `,
  },
  {
    version: 6,
    name: 'offline messages in flight',
    sql: `
      -- 1: written ahead for a connected session that has not acked it yet (XEP-0198). Not
      -- offline storage until that session ends unacked or the server restarts after a crash.
      ALTER TABLE offline_messages ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;
    `,
  },
];

export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError';
}

export function latestSchemaVersion(): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/**
 * Brings the schema up to date in one transaction. IMMEDIATE takes the write lock before reading
 * the current version, so a server and a CLI opening the same file at once cannot both migrate.
 */
export function migrate(db: SqliteDatabase): number {
  const latest = latestSchemaVersion();
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY NOT NULL,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    const row = db
      .prepare<[], { v: number | null }>('SELECT max(version) AS v FROM schema_migrations')
      .get()!;
    const current = row.v ?? 0;
    if (current > latest) {
      throw new SchemaTooNewError(
        `database schema is at version ${current} but this Rampart only knows up to ${latest}; ` +
          'it was written by a newer Rampart: upgrade Rampart or restore a backup',
      );
    }
    const record = db.prepare(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    );
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    }
    return latest;
  }, 'immediate');
  return run();
}
