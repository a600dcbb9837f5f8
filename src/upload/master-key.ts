import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The server's upload master key: wraps every per-file key and, through HKDF, keys the HMACs of
 * upload slots and download tokens. Kept in its own file (mode 0600) in the data directory so
 * slots and files survive a restart; losing it makes every stored upload unreadable.
 */
export interface UploadKeys {
  /** Wraps per-file keys (AES-256-GCM). */
  wrapKey: Buffer;
  /** Signs upload slots and per-recipient download URLs (HMAC-SHA-256). */
  signKey: Buffer;
}

export function uploadKeyPath(dataDir: string): string {
  return join(dataDir, 'upload-master.key');
}

/** Reads the master key, creating it on first use. */
export function loadUploadKeys(dataDir: string): UploadKeys {
  const path = uploadKeyPath(dataDir);
  let master: Buffer;
  try {
    master = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dirname(path), { recursive: true });
    master = randomBytes(32);
    // 'wx': if another process created it first, fail rather than overwrite its key.
    writeFileSync(path, `${master.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  if (master.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
  const derive = (label: string) =>
    Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `rampart upload ${label}`, 32));
  return { wrapKey: derive('wrap'), signKey: derive('sign') };
}
