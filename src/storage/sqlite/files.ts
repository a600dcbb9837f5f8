import type { FilePatch, FileStatus, FileStore, StoredFile } from '../ports.ts';
import type { SqliteDatabase } from './connection.ts';

interface FileRow {
  id: string;
  owner: string;
  name: string;
  size: number;
  content_type: string;
  status: FileStatus;
  created_at: number;
  expires_at: number;
  sha256: string | null;
  detected_type: string | null;
  wrapped_key: string | null;
  verdict_rule: string | null;
  verdict_reason: string | null;
}

const COLUMNS: Record<keyof Omit<StoredFile, 'id' | 'owner'>, string> = {
  name: 'name',
  size: 'size',
  contentType: 'content_type',
  status: 'status',
  createdAt: 'created_at',
  expiresAt: 'expires_at',
  sha256: 'sha256',
  detectedType: 'detected_type',
  wrappedKey: 'wrapped_key',
  verdictRule: 'verdict_rule',
  verdictReason: 'verdict_reason',
};

function fromRow(r: FileRow): StoredFile {
  const f: StoredFile = {
    id: r.id,
    owner: r.owner,
    name: r.name,
    size: r.size,
    contentType: r.content_type,
    status: r.status,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
  if (r.sha256 !== null) f.sha256 = r.sha256;
  if (r.detected_type !== null) f.detectedType = r.detected_type;
  if (r.wrapped_key !== null) f.wrappedKey = r.wrapped_key;
  if (r.verdict_rule !== null) f.verdictRule = r.verdict_rule;
  if (r.verdict_reason !== null) f.verdictReason = r.verdict_reason;
  return f;
}

export class SqliteFileStore implements FileStore {
  private readonly insert;
  private readonly select;
  private readonly move;
  private readonly sumOwner;
  private readonly selectExpired;
  private readonly del;

  constructor(private readonly db: SqliteDatabase) {
    this.insert = db.prepare<[Record<string, string | number | null>]>(
      `INSERT INTO uploaded_files (id, owner, name, size, content_type, status, created_at,
         expires_at, sha256, detected_type, wrapped_key, verdict_rule, verdict_reason)
       VALUES (@id, @owner, @name, @size, @content_type, @status, @created_at, @expires_at,
         @sha256, @detected_type, @wrapped_key, @verdict_rule, @verdict_reason)`,
    );
    this.select = db.prepare<[string], FileRow>('SELECT * FROM uploaded_files WHERE id = ?');
    this.move = db.prepare<[string, string, string]>(
      'UPDATE uploaded_files SET status = ? WHERE id = ? AND status = ?',
    );
    this.sumOwner = db
      .prepare<[string, number], number>(
        'SELECT coalesce(sum(size), 0) FROM uploaded_files WHERE owner = ? AND expires_at > ?',
      )
      .pluck();
    this.selectExpired = db.prepare<[number, number], FileRow>(
      'SELECT * FROM uploaded_files WHERE expires_at <= ? ORDER BY expires_at LIMIT ?',
    );
    this.del = db.prepare<[string]>('DELETE FROM uploaded_files WHERE id = ?');
  }

  async create(f: StoredFile): Promise<void> {
    this.insert.run({
      id: f.id,
      owner: f.owner,
      name: f.name,
      size: f.size,
      content_type: f.contentType,
      status: f.status,
      created_at: f.createdAt,
      expires_at: f.expiresAt,
      sha256: f.sha256 ?? null,
      detected_type: f.detectedType ?? null,
      wrapped_key: f.wrappedKey ?? null,
      verdict_rule: f.verdictRule ?? null,
      verdict_reason: f.verdictReason ?? null,
    });
  }

  async get(id: string): Promise<StoredFile | undefined> {
    const row = this.select.get(id);
    return row === undefined ? undefined : fromRow(row);
  }

  async transition(id: string, from: FileStatus, to: FileStatus): Promise<boolean> {
    return this.move.run(to, id, from).changes === 1;
  }

  async update(id: string, patch: FilePatch): Promise<void> {
    const sets: string[] = [];
    const values: Record<string, string | number | null> = { id };
    for (const [key, value] of Object.entries(patch)) {
      const column = COLUMNS[key as keyof typeof COLUMNS];
      if (column === undefined) continue;
      sets.push(`${column} = @${column}`);
      values[column] = (value as string | number | undefined) ?? null;
    }
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE uploaded_files SET ${sets.join(', ')} WHERE id = @id`).run(values);
  }

  async list(
    query: { owner?: string; status?: FileStatus; sha256?: string } = {},
  ): Promise<StoredFile[]> {
    const where: string[] = [];
    const values: Record<string, string> = {};
    if (query.owner !== undefined) {
      where.push('owner = @owner');
      values.owner = query.owner;
    }
    if (query.status !== undefined) {
      where.push('status = @status');
      values.status = query.status;
    }
    if (query.sha256 !== undefined) {
      where.push('sha256 = @sha256');
      values.sha256 = query.sha256;
    }
    const sql = `SELECT * FROM uploaded_files ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id`;
    return this.db.prepare<[Record<string, string>], FileRow>(sql).all(values).map(fromRow);
  }

  async usage(owner: string, now: number): Promise<number> {
    return this.sumOwner.get(owner, now)!;
  }

  async expired(now: number, limit = 1000): Promise<StoredFile[]> {
    return this.selectExpired.all(now, limit).map(fromRow);
  }

  async remove(id: string): Promise<boolean> {
    return this.del.run(id).changes === 1;
  }
}
