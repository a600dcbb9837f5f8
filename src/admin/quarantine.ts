/**
 * Quarantined uploads for admins: list what scanning held, release a file (it becomes
 * downloadable) or delete it (bytes and record). Each decision is a security event.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Storage, StoredFile } from '../storage/ports.ts';
import { AdminError } from './errors.ts';

export function uploadDir(config: Config): string {
  return config.upload.dir ?? join(config.data_dir, 'uploads');
}

export async function listQuarantine(storage: Storage): Promise<StoredFile[]> {
  return storage.files.list({ status: 'quarantined' });
}

async function quarantined(storage: Storage, id: string): Promise<StoredFile> {
  const file = await storage.files.get(id);
  if (file === undefined || file.status !== 'quarantined') {
    throw new AdminError(
      'not-found',
      `no quarantined file with id ${id} (see rampart files quarantine list)`,
    );
  }
  return file;
}

export async function releaseFromQuarantine(
  storage: Storage,
  id: string,
  admin: string,
): Promise<StoredFile> {
  const file = await quarantined(storage, id);
  if (!(await storage.files.transition(id, 'quarantined', 'clean'))) {
    throw new AdminError('invalid', `file ${id} changed while releasing it; try again`);
  }
  await recordDecision(storage, file, admin, 'files.quarantine-release', 'allow');
  return file;
}

export async function deleteFromQuarantine(
  storage: Storage,
  config: Config,
  id: string,
  admin: string,
): Promise<StoredFile> {
  const file = await quarantined(storage, id);
  await rm(join(uploadDir(config), id), { force: true });
  await storage.files.remove(id);
  await recordDecision(storage, file, admin, 'files.quarantine-delete', 'refuse');
  return file;
}

function recordDecision(
  storage: Storage,
  file: StoredFile,
  admin: string,
  rule: string,
  verdict: 'allow' | 'refuse',
): Promise<void> {
  return storage.events.record({
    threat: 'T3',
    rule,
    actor: admin,
    target: `file:${file.id}`,
    verdict,
    evidence: { owner: file.owner, sha256: file.sha256, heldBy: file.verdictRule },
  });
}
