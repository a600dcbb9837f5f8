import type { Roster, RosterItem, RosterStore, Subscription } from '../ports.ts';
import type { SqliteDatabase } from './connection.ts';

interface RosterRow {
  contact: string;
  name: string | null;
  subscription: Subscription;
  ask_out: number;
  ask_in: number;
  pre_approved: number;
  groups: string;
}

type RosterParams = [string, string, string | null, Subscription, number, number, number, string];

function toItem(row: RosterRow): RosterItem {
  const item: RosterItem = {
    contact: row.contact,
    subscription: row.subscription,
    askOut: row.ask_out !== 0,
    askIn: row.ask_in !== 0,
    preApproved: row.pre_approved !== 0,
    groups: JSON.parse(row.groups) as string[],
  };
  if (row.name !== null) item.name = row.name;
  return item;
}

const columns = 'contact, name, subscription, ask_out, ask_in, pre_approved, groups';

export class SqliteRosterStore implements RosterStore {
  private readonly readRoster;
  private readonly selectItem;
  private readonly putItem;
  private readonly removeItem;

  constructor(db: SqliteDatabase) {
    const selectVersion = db
      .prepare<[string], number>('SELECT version FROM roster_versions WHERE owner = ?')
      .pluck();
    const selectItems = db.prepare<[string], RosterRow>(
      `SELECT ${columns} FROM roster_items WHERE owner = ? ORDER BY contact`,
    );
    this.selectItem = db.prepare<[string, string], RosterRow>(
      `SELECT ${columns} FROM roster_items WHERE owner = ? AND contact = ?`,
    );
    const upsert = db.prepare<RosterParams>(
      `INSERT OR REPLACE INTO roster_items (owner, ${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const deleteItem = db.prepare<[string, string]>(
      'DELETE FROM roster_items WHERE owner = ? AND contact = ?',
    );
    const bump = db
      .prepare<[string], number>(
        `INSERT INTO roster_versions (owner, version) VALUES (?, 1)
         ON CONFLICT (owner) DO UPDATE SET version = version + 1 RETURNING version`,
      )
      .pluck();

    // One read transaction so the version always matches the items (the CLI may write between).
    this.readRoster = db.transaction((owner: string): Roster => {
      const version = selectVersion.get(owner) ?? 0;
      return { version, items: selectItems.all(owner).map(toItem) };
    });
    // Write transactions are IMMEDIATE so busy_timeout covers a concurrent writer.
    this.putItem = db.transaction((params: RosterParams) => {
      upsert.run(...params);
      return bump.get(params[0])!;
    }, 'immediate');
    this.removeItem = db.transaction(
      (owner: string, contact: string) =>
        deleteItem.run(owner, contact).changes === 0 ? undefined : bump.get(owner)!,
      'immediate',
    );
  }

  async get(owner: string): Promise<Roster> {
    return this.readRoster(owner);
  }

  async getItem(owner: string, contact: string): Promise<RosterItem | undefined> {
    const row = this.selectItem.get(owner, contact);
    return row === undefined ? undefined : toItem(row);
  }

  async put(owner: string, item: RosterItem): Promise<number> {
    return this.putItem([
      owner,
      item.contact,
      item.name ?? null,
      item.subscription,
      item.askOut ? 1 : 0,
      item.askIn ? 1 : 0,
      item.preApproved ? 1 : 0,
      JSON.stringify(item.groups),
    ]);
  }

  async remove(owner: string, contact: string): Promise<number | undefined> {
    return this.removeItem(owner, contact);
  }
}
