import { join } from 'node:path';
import { openSqliteDriver } from '../../src/storage/sqlite/driver.ts';

export interface EventRow {
  id: number;
  time: number;
  threat: string;
  rule: string;
  actor: string;
  target: string | null;
  address: string | null;
  verdict: string;
  evidence: string | null;
}

/**
 * Reads security events straight from a server's SQLite file, read-only, as an auditor
 * would; waits up to 3 s for at least `atLeast` matching ones (events are written async).
 */
export async function readSecurityEvents(
  dataDir: string,
  where: (e: EventRow) => boolean,
  atLeast: number,
): Promise<EventRow[]> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const db = openSqliteDriver(join(dataDir, 'rampart.db'), { readonly: true });
    try {
      const rows = db
        .prepare<[], EventRow>('SELECT * FROM security_events ORDER BY id')
        .all()
        .filter(where);
      if (rows.length >= atLeast || Date.now() > deadline) return rows;
    } finally {
      db.close();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
