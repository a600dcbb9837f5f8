import { createHash } from 'node:crypto';
import type { Config } from '../../config/schema.ts';
import { type ClamdAddress, clamdVersion } from './clamd.ts';

/**
 * What a scan verdict depends on besides the file: the scanning policy (deny list, blocked
 * types, modes...) and clamd's signature database version. When this fingerprint changes,
 * files already served are scanned again.
 */
export async function scanFingerprint(scan: Config['upload_scan']): Promise<string> {
  const clamd = clamdAddress(scan);
  let signatures = 'no clamd';
  if (clamd !== undefined) {
    signatures = await clamdVersion(clamd, scan.clamd_timeout_ms).catch(() => 'clamd unavailable');
  }
  return createHash('sha256').update(JSON.stringify({ scan, signatures })).digest('hex');
}

export function clamdAddress(scan: Config['upload_scan']): ClamdAddress | undefined {
  if (scan.clamd_socket !== undefined) return { socket: scan.clamd_socket };
  if (scan.clamd_host !== undefined) return { host: scan.clamd_host, port: scan.clamd_port };
  return undefined;
}
