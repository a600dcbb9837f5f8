import type { HeldKind, HeldMessage, HeldMessageStore, NewHeldMessage } from '../ports.ts';
import type { SqliteDatabase } from './connection.ts';

interface HeldRow {
  id: number;
  owner: string;
  sender: string;
  kind: HeldKind;
  stanza: string;
  threat: string | null;
  rule: string;
  reason: string;
  held_at: number;
}

type Filter = { owner?: string; sender?: string; kind?: HeldKind };

function toHeld(row: HeldRow): HeldMessage {
  const m: HeldMessage = {
    id: row.id,
    owner: row.owner,
    sender: row.sender,
    kind: row.kind,
    stanza: row.stanza,
    rule: row.rule,
    reason: row.reason,
    heldAt: row.held_at,
  };
  if (row.threat !== null) m.threat = row.threat;
  return m;
}

export class SqliteHeldMessageStore implements HeldMessageStore {
  private readonly insert;
  private readonly selectFiltered;
  private readonly selectOne;
  private readonly deleteIds;
  private readonly deleteOlder;

  constructor(db: SqliteDatabase) {
    this.insert = db.prepare<
      [string, string, HeldKind, string, string | null, string, string, number]
    >(
      `INSERT INTO held_messages (owner, sender, kind, stanza, threat, rule, reason, held_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // NULL parameters mean "any": one statement serves every combination of filters.
    this.selectFiltered = db.prepare<[Record<string, string | null>], HeldRow>(
      `SELECT * FROM held_messages
       WHERE (@owner IS NULL OR owner = @owner)
         AND (@sender IS NULL OR sender = @sender)
         AND (@kind IS NULL OR kind = @kind)
       ORDER BY id`,
    );
    this.selectOne = db.prepare<[number], HeldRow>('SELECT * FROM held_messages WHERE id = ?');
    this.deleteIds = db.prepare<[string]>(
      'DELETE FROM held_messages WHERE id IN (SELECT value FROM json_each(?))',
    );
    this.deleteOlder = db.prepare<[number]>('DELETE FROM held_messages WHERE held_at < ?');
  }

  async add(m: NewHeldMessage): Promise<number> {
    const result = this.insert.run(
      m.owner,
      m.sender,
      m.kind,
      m.stanza,
      m.threat ?? null,
      m.rule,
      m.reason,
      m.heldAt ?? Date.now(),
    );
    return Number(result.lastInsertRowid);
  }

  async list(query: Filter = {}): Promise<HeldMessage[]> {
    return this.selectFiltered
      .all({ owner: query.owner ?? null, sender: query.sender ?? null, kind: query.kind ?? null })
      .map(toHeld);
  }

  async get(id: number): Promise<HeldMessage | undefined> {
    const row = this.selectOne.get(id);
    return row ? toHeld(row) : undefined;
  }

  async remove(ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number(this.deleteIds.run(JSON.stringify(ids)).changes);
  }

  async removeOlderThan(time: number): Promise<number> {
    return Number(this.deleteOlder.run(time).changes);
  }
}
