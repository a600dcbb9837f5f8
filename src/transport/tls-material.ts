import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** RFC 5929 tls-server-end-point channel-binding data for this certificate. */
  serverEndPoint: Buffer;
  selfSigned: boolean;
}

/**
 * Loads the configured certificate, or makes (once) a self-signed one for the domain in
 * `${dataDir}/tls/` so that TLS is on even on a first start.
 */
export async function loadTlsMaterial(opts: {
  cert?: string | undefined;
  key?: string | undefined;
  dataDir: string;
  domain: string;
}): Promise<TlsMaterial> {
  if (opts.cert && opts.key) {
    const cert = readFileSync(opts.cert, 'utf8');
    const key = readFileSync(opts.key, 'utf8');
    return { cert, key, serverEndPoint: serverEndPointHash(cert), selfSigned: false };
  }
  const dir = join(opts.dataDir, 'tls');
  const certPath = join(dir, `${opts.domain}.crt`);
  const keyPath = join(dir, `${opts.domain}.key`);
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pems = await generate([{ name: 'commonName', value: opts.domain }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 825 * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: opts.domain },
            { type: 2, value: `*.${opts.domain}` },
          ],
        },
      ],
    });
    writeFileSync(keyPath, pems.private, { mode: 0o600 });
    writeFileSync(certPath, pems.cert, { mode: 0o644 });
  }
  const cert = readFileSync(certPath, 'utf8');
  const key = readFileSync(keyPath, 'utf8');
  return { cert, key, serverEndPoint: serverEndPointHash(cert), selfSigned: true };
}

// Signature-algorithm OIDs (DER content bytes, hex) whose hash is not SHA-256.
const OID_HASH: Record<string, string> = {
  '2a864886f70d01010c': 'sha384', // sha384WithRSAEncryption
  '2a864886f70d01010d': 'sha512', // sha512WithRSAEncryption
  '2a8648ce3d040303': 'sha384', // ecdsa-with-SHA384
  '2a8648ce3d040304': 'sha512', // ecdsa-with-SHA512
};

/**
 * RFC 5929 §4.1: hash of the DER certificate with the hash of its signature algorithm,
 * SHA-256 when that is MD5 or SHA-1 (or unknown, e.g. Ed25519).
 */
export function serverEndPointHash(pem: string): Buffer {
  const der = new X509Certificate(pem).raw;
  return createHash(signatureHash(der)).update(der).digest();
}

function signatureHash(der: Buffer): string {
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE { OID ... }, ... }
  const outer = readHeader(der, 0);
  const tbs = readHeader(der, outer.contentStart);
  const alg = readHeader(der, tbs.contentStart + tbs.length);
  const oid = readHeader(der, alg.contentStart);
  const hex = der.subarray(oid.contentStart, oid.contentStart + oid.length).toString('hex');
  return OID_HASH[hex] ?? 'sha256';
}

function readHeader(buf: Buffer, at: number): { contentStart: number; length: number } {
  const first = buf[at + 1] ?? 0;
  if (first < 0x80) return { contentStart: at + 2, length: first };
  const n = first & 0x7f;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + (buf[at + 2 + i] ?? 0);
  return { contentStart: at + 2 + n, length };
}
