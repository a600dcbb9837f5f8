import type { OfflineMessage, OfflineStore } from '../ports.ts';
import type { SqliteDatabase } from './connection.ts';

export class SqliteOfflineStore implements OfflineStore {
  private readonly insert;
  private readonly select;
  private readonly deleteIds;
  private readonly countOwner;

  constructor(db: SqliteDatabase) {
    this.insert = db.prepare<[string, string, number]>(
      'INSERT INTO offline_messages (owner, stanza, stored_at) VALUES (?, ?, ?)',
    );
    // LIMIT -1 means no limit in SQLite, so one statement serves both cases.
    this.select = db.prepare<[string, number], OfflineMessage>(
      `SELECT id, stanza, stored_at AS storedAt FROM offline_messages
       WHERE owner = ? ORDER BY id LIMIT ?`,
    );
    // The ids travel as one JSON array, so any number of them fits one prepared statement.
    this.deleteIds = db.prepare<[string, string]>(
      `DELETE FROM offline_messages
       WHERE owner = ? AND id IN (SELECT value FROM json_each(?))`,
    );
    this.countOwner = db
      .prepare<[string], number>('SELECT count(*) FROM offline_messages WHERE owner = ?')
      .pluck();
  }

  /** The insert commits before resolving (see the synchronous pragma in connection.ts). */
  async push(owner: string, stanza: string): Promise<number> {
    return Number(this.insert.run(owner, stanza, Date.now()).lastInsertRowid);
  }

  async list(owner: string, limit?: number): Promise<OfflineMessage[]> {
    return this.select.all(owner, limit ?? -1);
  }

  async remove(owner: string, ids: number[]): Promise<void> {
    if (ids.length > 0) this.deleteIds.run(owner, JSON.stringify(ids));
  }

  async count(owner: string): Promise<number> {
    return this.countOwner.get(owner)!;
  }
}
