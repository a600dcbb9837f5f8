import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { openStorage } from '../../src/storage/open.ts';

const dir = mkdtempSync(join(tmpdir(), 'rampart-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('opens SQLite at <dataDir>/rampart.db, creating the directory', async () => {
  const dataDir = join(dir, 'data');
  const s = openStorage({ dataDir });
  try {
    assert.equal(s.kind, 'sqlite');
    await s.kv.set('a@b', 'k', 'v');
  } finally {
    await s.close();
  }
  assert.ok(existsSync(join(dataDir, 'rampart.db')));
});
