import type { OfflineMessage, OfflineStore } from '../ports.ts';
import type { SqliteDatabase } from './connection.ts';
import { GroupCommit } from './group-commit.ts';

export class SqliteOfflineStore implements OfflineStore {
  private readonly writes;
  private readonly insert;
  private readonly select;
  private readonly deleteIds;
  private readonly landIds;
  private readonly landAll;
  private readonly countOwner;

  constructor(db: SqliteDatabase) {
    this.writes = new GroupCommit(db);
    this.insert = db.prepare<[string, string, number, number]>(
      'INSERT INTO offline_messages (owner, stanza, stored_at, in_flight) VALUES (?, ?, ?, ?)',
    );
    // LIMIT -1 means no limit in SQLite, so one statement serves both cases.
    this.select = db.prepare<[string, number], OfflineMessage>(
      `SELECT id, stanza, stored_at AS storedAt FROM offline_messages
       WHERE owner = ? AND in_flight = 0 ORDER BY id LIMIT ?`,
    );
    // The ids travel as one JSON array, so any number of them fits one prepared statement.
    this.deleteIds = db.prepare<[string, string]>(
      `DELETE FROM offline_messages
       WHERE owner = ? AND id IN (SELECT value FROM json_each(?))`,
    );
    this.landIds = db.prepare<[string, string]>(
      `UPDATE offline_messages SET in_flight = 0
       WHERE owner = ? AND id IN (SELECT value FROM json_each(?))`,
    );
    this.landAll = db.prepare<[]>('UPDATE offline_messages SET in_flight = 0 WHERE in_flight = 1');
    this.countOwner = db
      .prepare<[string], number>(
        'SELECT count(*) FROM offline_messages WHERE owner = ? AND in_flight = 0',
      )
      .pluck();
  }

  /** Resolves once committed (see the synchronous pragma in connection.ts). */
  push(owner: string, stanza: string): Promise<number> {
    return this.writes.write(() =>
      Number(this.insert.run(owner, stanza, Date.now(), 0).lastInsertRowid),
    );
  }

  pushInFlight(owner: string, stanza: string): Promise<number> {
    return this.writes.write(() =>
      Number(this.insert.run(owner, stanza, Date.now(), 1).lastInsertRowid),
    );
  }

  async land(owner: string, ids: number[]): Promise<void> {
    if (ids.length > 0) await this.writes.write(() => this.landIds.run(owner, JSON.stringify(ids)));
  }

  async landAllInFlight(): Promise<number> {
    this.writes.flush();
    return this.landAll.run().changes;
  }

  async list(owner: string, limit?: number): Promise<OfflineMessage[]> {
    this.writes.flush();
    return this.select.all(owner, limit ?? -1);
  }

  async remove(owner: string, ids: number[]): Promise<void> {
    if (ids.length > 0)
      await this.writes.write(() => this.deleteIds.run(owner, JSON.stringify(ids)));
  }

  async count(owner: string): Promise<number> {
    this.writes.flush();
    return this.countOwner.get(owner)!;
  }

  /** Commits queued writes now (before the database closes). */
  flush(): void {
    this.writes.flush();
  }
}
