import type { SecurityEvent, SecurityEventStore, StoredSecurityEvent, Verdict } from '../ports.ts';
import type { SqliteDatabase } from './connection.ts';
import type { Statement } from './driver.ts';

interface EventRow {
  id: number;
  time: number;
  threat: string;
  rule: string;
  actor: string;
  target: string | null;
  address: string | null;
  verdict: Verdict;
  evidence: string | null;
}

type EventQuery = {
  afterId?: number;
  since?: number;
  limit?: number;
  rule?: string;
  actor?: string;
};
type QueryParams = Record<string, string | number>;
type InsertParams = [
  number,
  string,
  string,
  string,
  string | null,
  string | null,
  string,
  string | null,
];

function toEvent(row: EventRow): StoredSecurityEvent {
  const event: StoredSecurityEvent = {
    id: row.id,
    time: row.time,
    threat: row.threat,
    rule: row.rule,
    actor: row.actor,
    verdict: row.verdict,
  };
  if (row.target !== null) event.target = row.target;
  if (row.address !== null) event.address = row.address;
  if (row.evidence !== null) event.evidence = JSON.parse(row.evidence) as Record<string, unknown>;
  return event;
}

/**
 * With `afterId`, the first `limit` events after it (paging forward, as `events tail` follows);
 * without it, the newest `limit` events. Either way the result is oldest first, newest last.
 */
function listSql(q: EventQuery): string {
  const where: string[] = [];
  if (q.afterId !== undefined) where.push('id > @afterId');
  if (q.since !== undefined) where.push('time >= @since');
  if (q.rule !== undefined) where.push('rule = @rule');
  if (q.actor !== undefined) where.push('actor = @actor');
  const clause = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`;
  const filtered = `SELECT * FROM security_events${clause}`;
  return q.afterId !== undefined
    ? `${filtered} ORDER BY id LIMIT @limit`
    : `SELECT * FROM (${filtered} ORDER BY id DESC LIMIT @limit) ORDER BY id`;
}

export class SqliteSecurityEventStore implements SecurityEventStore {
  private readonly db: SqliteDatabase;
  private readonly insert;
  /** Statements by the shape of the query: at most sixteen, each prepared once. */
  private readonly queries = new Map<string, Statement<[QueryParams], EventRow>>();

  constructor(db: SqliteDatabase) {
    this.db = db;
    this.insert = db.prepare<InsertParams>(
      `INSERT INTO security_events (time, threat, rule, actor, target, address, verdict, evidence)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  async record(event: SecurityEvent): Promise<void> {
    this.insert.run(
      event.time ?? Date.now(),
      event.threat,
      event.rule,
      event.actor,
      event.target ?? null,
      event.address ?? null,
      event.verdict,
      event.evidence === undefined ? null : JSON.stringify(event.evidence),
    );
  }

  async list(query: EventQuery = {}): Promise<StoredSecurityEvent[]> {
    const sql = listSql(query);
    let stmt = this.queries.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare<[QueryParams], EventRow>(sql);
      this.queries.set(sql, stmt);
    }
    // LIMIT -1 means no limit in SQLite.
    const params: QueryParams = { limit: query.limit ?? -1 };
    if (query.afterId !== undefined) params.afterId = query.afterId;
    if (query.since !== undefined) params.since = query.since;
    if (query.rule !== undefined) params.rule = query.rule;
    if (query.actor !== undefined) params.actor = query.actor;
    return stmt.all(params).map(toEvent);
  }
}
