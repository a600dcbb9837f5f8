import type {
  DeliveryLogStore,
  DeliveryRecord,
  StoredDeliveryRecord,
  ThreatBlock,
  ThreatBlockKind,
  ThreatBlockStore,
} from '../ports.ts';
import type { SqliteDatabase } from './connection.ts';
import { GroupCommit } from './group-commit.ts';

interface BlockRow {
  kind: ThreatBlockKind;
  value: string;
  reason: string;
  source: 'admin' | 'outbreak';
  created_at: number;
  purged_at: number | null;
}

function toBlock(row: BlockRow): ThreatBlock {
  const block: ThreatBlock = {
    kind: row.kind,
    value: row.value,
    reason: row.reason,
    source: row.source,
    createdAt: row.created_at,
  };
  if (row.purged_at !== null) block.purgedAt = row.purged_at;
  return block;
}

export class SqliteThreatBlockStore implements ThreatBlockStore {
  private readonly insert;
  private readonly del;
  private readonly selectAll;
  private readonly setPurged;

  constructor(db: SqliteDatabase) {
    this.insert = db.prepare<[string, string, string, string, number]>(
      `INSERT INTO threat_blocks (kind, value, reason, source, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    );
    this.del = db.prepare<[string, string]>(
      'DELETE FROM threat_blocks WHERE kind = ? AND value = ?',
    );
    this.selectAll = db.prepare<[], BlockRow>(
      'SELECT * FROM threat_blocks ORDER BY created_at, kind, value',
    );
    this.setPurged = db.prepare<[number, string, string]>(
      'UPDATE threat_blocks SET purged_at = ? WHERE kind = ? AND value = ?',
    );
  }

  async add(b: ThreatBlock): Promise<boolean> {
    return this.insert.run(b.kind, b.value, b.reason, b.source, b.createdAt).changes > 0;
  }

  async remove(kind: ThreatBlockKind, value: string): Promise<boolean> {
    return this.del.run(kind, value).changes > 0;
  }

  async list(): Promise<ThreatBlock[]> {
    return this.selectAll.all().map(toBlock);
  }

  async markPurged(kind: ThreatBlockKind, value: string, time: number): Promise<void> {
    this.setPurged.run(time, kind, value);
  }
}

interface DeliveryRow {
  id: number;
  stanza_id: string;
  message_id: string | null;
  sender: string;
  recipient: string;
  time: number;
  artefacts: string;
}

function toDelivery(row: DeliveryRow): StoredDeliveryRecord {
  const d: StoredDeliveryRecord = {
    id: row.id,
    stanzaId: row.stanza_id,
    sender: row.sender,
    recipient: row.recipient,
    artefacts: JSON.parse(row.artefacts) as string[],
    time: row.time,
  };
  if (row.message_id !== null) d.messageId = row.message_id;
  return d;
}

export class SqliteDeliveryLogStore implements DeliveryLogStore {
  /** One delivery of every message with a link or file: committed together per event-loop turn. */
  private readonly writes;
  private readonly insertOne;
  private readonly findStmt;
  private readonly deleteIds;
  private readonly pruneStmt;

  constructor(db: SqliteDatabase) {
    this.writes = new GroupCommit(db);
    const insert = db.prepare<[string, string | null, string, string, number]>(
      'INSERT INTO deliveries (stanza_id, message_id, sender, recipient, time) VALUES (?, ?, ?, ?, ?)',
    );
    const insertArtefact = db.prepare<[string, number]>(
      'INSERT OR IGNORE INTO delivery_artefacts (artefact, delivery_id) VALUES (?, ?)',
    );
    this.insertOne = db.transaction((d: DeliveryRecord) => {
      const id = insert.run(
        d.stanzaId,
        d.messageId ?? null,
        d.sender,
        d.recipient,
        d.time,
      ).lastInsertRowid;
      for (const a of new Set(d.artefacts)) insertArtefact.run(a, Number(id));
    });
    // Artefacts and the optional sender travel as JSON so one statement serves every query.
    this.findStmt = db.prepare<[Record<string, string | number>], DeliveryRow>(
      `SELECT d.*, (SELECT json_group_array(artefact) FROM (SELECT artefact FROM delivery_artefacts
                    WHERE delivery_id = d.id ORDER BY artefact)) AS artefacts
       FROM deliveries d
       WHERE d.id IN (SELECT delivery_id FROM delivery_artefacts
                      WHERE artefact IN (SELECT value FROM json_each(@artefacts)))
         AND d.time >= @since AND (@sender = '' OR d.sender = @sender)
       ORDER BY d.id`,
    );
    this.deleteIds = db.prepare<[string]>(
      'DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(?))',
    );
    this.pruneStmt = db.prepare<[number]>('DELETE FROM deliveries WHERE time < ?');
  }

  record(entry: DeliveryRecord): Promise<void> {
    return this.writes.write(() => this.insertOne(entry));
  }

  /** Commits queued records now (before reads that must see them, and before closing). */
  flush(): void {
    this.writes.flush();
  }

  async find(q: {
    artefacts: readonly string[];
    since: number;
    sender?: string;
  }): Promise<StoredDeliveryRecord[]> {
    if (q.artefacts.length === 0) return [];
    this.flush();
    return this.findStmt
      .all({ artefacts: JSON.stringify(q.artefacts), since: q.since, sender: q.sender ?? '' })
      .map(toDelivery);
  }

  async remove(ids: readonly number[]): Promise<void> {
    this.flush();
    if (ids.length > 0) this.deleteIds.run(JSON.stringify(ids));
  }

  async prune(before: number): Promise<number> {
    this.flush();
    return this.pruneStmt.run(before).changes;
  }
}
