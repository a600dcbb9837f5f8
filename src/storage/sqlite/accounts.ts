import {
  type Account,
  AccountExistsError,
  type AccountStore,
  type NewAccount,
  type ScramCredential,
} from '../ports.ts';
import type { SqliteDatabase } from './connection.ts';

interface AccountRow {
  jid: string;
  created_at: number;
  credentials: string;
  quarantined_reason: string | null;
}

function toAccount(row: AccountRow): Account {
  const account: Account = {
    jid: row.jid,
    createdAt: row.created_at,
    credentials: JSON.parse(row.credentials) as ScramCredential[],
  };
  if (row.quarantined_reason !== null) account.quarantinedReason = row.quarantined_reason;
  return account;
}

export class SqliteAccountStore implements AccountStore {
  private readonly insert;
  private readonly select;
  private readonly updateCredentials;
  private readonly updateQuarantine;
  private readonly listAll;
  private readonly listDomain;
  private readonly insertMany;
  private readonly removeCascade;

  constructor(db: SqliteDatabase) {
    this.insert = db.prepare<[string, number, string]>(
      'INSERT INTO accounts (jid, created_at, credentials) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.select = db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE jid = ?');
    this.updateCredentials = db.prepare<[string, string]>(
      'UPDATE accounts SET credentials = ? WHERE jid = ?',
    );
    this.updateQuarantine = db.prepare<[string | null, string]>(
      'UPDATE accounts SET quarantined_reason = ? WHERE jid = ?',
    );
    this.listAll = db.prepare<[], string>('SELECT jid FROM accounts ORDER BY jid').pluck();
    this.listDomain = db
      .prepare<[string], string>(
        `SELECT jid FROM accounts
         WHERE instr(jid, '@') > 0 AND substr(jid, instr(jid, '@') + 1) = ? ORDER BY jid`,
      )
      .pluck();

    const insert = this.insert;
    // IMMEDIATE: take the write lock up front so busy_timeout applies if the other process
    // (server or CLI) is writing, instead of failing when a read lock cannot be upgraded.
    this.insertMany = db.transaction((accounts: NewAccount[]) => {
      const now = Date.now();
      const existing: string[] = [];
      let created = 0;
      for (const a of accounts) {
        if (insert.run(a.jid, now, JSON.stringify(a.credentials)).changes > 0) created++;
        else existing.push(a.jid);
      }
      return { created, existing };
    }, 'immediate');

    const owned = [
      'DELETE FROM roster_items WHERE owner = ?',
      'DELETE FROM offline_messages WHERE owner = ?',
      'DELETE FROM kv WHERE owner = ?',
      'DELETE FROM pubsub_nodes WHERE owner = ?',
      'DELETE FROM held_messages WHERE owner = ?',
    ].map((sql) => db.prepare<[string]>(sql));
    const deleteAccount = db.prepare<[string]>('DELETE FROM accounts WHERE jid = ?');
    // roster_versions is kept on purpose: if the JID is created again, its roster versions
    // continue upwards, so a client's cached roster of the old account never looks current.
    this.removeCascade = db.transaction((jid: string) => {
      if (deleteAccount.run(jid).changes === 0) return false;
      for (const stmt of owned) stmt.run(jid);
      return true;
    }, 'immediate');
  }

  async create(account: NewAccount): Promise<void> {
    const result = this.insert.run(account.jid, Date.now(), JSON.stringify(account.credentials));
    if (result.changes === 0) throw new AccountExistsError(`account ${account.jid} exists`);
  }

  async createMany(accounts: NewAccount[]): Promise<{ created: number; existing: string[] }> {
    return this.insertMany(accounts);
  }

  async get(jid: string): Promise<Account | undefined> {
    const row = this.select.get(jid);
    return row === undefined ? undefined : toAccount(row);
  }

  async setCredentials(jid: string, credentials: ScramCredential[]): Promise<boolean> {
    return this.updateCredentials.run(JSON.stringify(credentials), jid).changes > 0;
  }

  async setQuarantine(jid: string, reason: string | undefined): Promise<boolean> {
    return this.updateQuarantine.run(reason ?? null, jid).changes > 0;
  }

  async remove(jid: string): Promise<boolean> {
    return this.removeCascade(jid);
  }

  async list(domain?: string): Promise<string[]> {
    return domain === undefined ? this.listAll.all() : this.listDomain.all(domain);
  }
}
