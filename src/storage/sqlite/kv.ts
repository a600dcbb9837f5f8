import type { KeyValueStore } from '../ports.ts';
import type { SqliteDatabase } from './connection.ts';

export class SqliteKeyValueStore implements KeyValueStore {
  private readonly select;
  private readonly upsert;
  private readonly del;

  constructor(db: SqliteDatabase) {
    this.select = db
      .prepare<[string, string], string>('SELECT value FROM kv WHERE owner = ? AND key = ?')
      .pluck();
    this.upsert = db.prepare<[string, string, string]>(
      `INSERT INTO kv (owner, key, value) VALUES (?, ?, ?)
       ON CONFLICT (owner, key) DO UPDATE SET value = excluded.value`,
    );
    this.del = db.prepare<[string, string]>('DELETE FROM kv WHERE owner = ? AND key = ?');
  }

  async get(owner: string, key: string): Promise<string | undefined> {
    return this.select.get(owner, key);
  }

  async set(owner: string, key: string, value: string): Promise<void> {
    this.upsert.run(owner, key, value);
  }

  async delete(owner: string, key: string): Promise<void> {
    this.del.run(owner, key);
  }
}
