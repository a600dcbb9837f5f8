import { join } from 'node:path';
import { openSqliteDriver } from '../../src/storage/sqlite/driver.ts';
import type { RampartProcess } from './server.ts';

export interface EventRow {
  threat: string;
  rule: string;
  actor: string;
  verdict: string;
  evidence: string | null;
}

/**
 * The security events of `rule` a running server recorded, read from its database (the way
 * `rampart events` does); waits up to `timeoutMs` for at least one, since recording is async.
 */
export async function securityEvents(
  server: RampartProcess,
  rule: string,
  timeoutMs = 3000,
): Promise<EventRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const db = openSqliteDriver(join(server.dataDir, 'rampart.db'), { readonly: true });
    let rows: EventRow[];
    try {
      rows = db
        .prepare<[string], EventRow>(
          'SELECT threat, rule, actor, verdict, evidence FROM security_events WHERE rule = ?',
        )
        .all(rule);
    } finally {
      db.close();
    }
    if (rows.length > 0 || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
}
