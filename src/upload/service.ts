import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config/schema.ts';
import type { FileStore, StoredFile } from '../storage/ports.ts';
import {
  decryptRange,
  EncryptStream,
  newFileKey,
  unwrapFileKey,
  wrapFileKey,
} from './file-crypto.ts';
import type { UploadKeys } from './master-key.ts';
import type { Finding } from './scan/findings.ts';
import { cleanFileName, partyToken, slotToken, verifySlotToken } from './slot-token.ts';

/** What the scanners see of a stored file: its facts and a way to read its plaintext. */
export interface ScanInput {
  id: string;
  owner: string;
  name: string;
  declaredType: string;
  size: number;
  sha256: string;
  /** Plaintext bytes [start, end), decrypted as they are read. */
  read(start?: number, end?: number): Readable;
}

export interface ScanOutcome {
  verdict: 'clean' | 'blocked';
  /** Real type from magic bytes, when known. */
  detectedType?: string;
  /** The rule that blocked the file, e.g. 'files.type-policy'. */
  rule?: string;
  /** Plain words for the uploader. */
  reason?: string;
  /** Everything the scan noticed, blocking or only monitored (each becomes an event). */
  findings: Finding[];
}

export type FileScanner = (input: ScanInput) => Promise<ScanOutcome>;

export interface SlotRequest {
  filename: string;
  size: number;
  contentType?: string | undefined;
}

export interface Slot {
  put: string;
  get: string;
  headers: Record<string, string>;
}

/** Why a slot was refused; the IQ handler turns these into XEP-0363 errors. */
export class SlotRefused extends Error {
  override readonly name = 'SlotRefused';
  constructor(
    readonly kind: 'too-large' | 'quota' | 'bad-request',
    message: string,
  ) {
    super(message);
  }
}

/** Why an upload failed; `status` is the HTTP status answered to the PUT. */
export class UploadFailed extends Error {
  override readonly name = 'UploadFailed';
  constructor(
    readonly status: number,
    message: string,
    readonly rule?: string,
  ) {
    super(message);
  }
}

const CONTENT_TYPE = /^[\w.+-]+\/[\w.+-]+$/;
export const UPLOAD_PATH = '/upload/';

/**
 * XEP-0363 slots, storage of uploads (encrypted, streamed to disk), the scan gate, and the
 * files' expiry. Metadata is in storage (FileStore); bytes are in `dir`, one file per id.
 */
export class UploadService {
  /** https://host:port the URLs start with; set once the HTTPS listener is up. */
  origin = '';
  /** SHA-256 of every servable file by id, for labelling messages that link them (sync). */
  private readonly cleanHashes = new Map<string, string>();
  readonly dir: string;

  constructor(
    private readonly config: Config,
    private readonly files: FileStore,
    private readonly keys: UploadKeys,
    private readonly scan: FileScanner,
  ) {
    this.dir = config.upload.dir ?? join(config.data_dir, 'uploads');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private get limits() {
    return this.config.upload;
  }

  /** Learns the hashes of the files already served (after a restart). */
  async loadCleanHashes(): Promise<void> {
    for (const f of await this.files.list({ status: 'clean' })) {
      if (f.sha256 !== undefined) this.cleanHashes.set(f.id, f.sha256);
    }
  }

  /** The SHA-256 of a servable file, or undefined. */
  hashOf(id: string): string | undefined {
    return this.cleanHashes.get(id);
  }

  pathOf(id: string): string {
    return join(this.dir, id);
  }

  /** The download URL of a file, for `party` (the uploader unless given). */
  downloadUrl(f: Pick<StoredFile, 'id' | 'name' | 'owner'>, party = f.owner): string {
    const base = `${this.origin}${UPLOAD_PATH}${f.id}/${encodeURIComponent(f.name)}`;
    if (this.limits.download_access !== 'party') return base;
    const q = new URLSearchParams({ for: party, sig: partyToken(this.keys.signKey, f.id, party) });
    return `${base}?${q}`;
  }

  async requestSlot(owner: string, req: SlotRequest, now = Date.now()): Promise<Slot> {
    if (!Number.isSafeInteger(req.size) || req.size < 0) {
      throw new SlotRefused('bad-request', 'size must be a whole number of bytes');
    }
    if (req.size > this.limits.max_file_size) {
      throw new SlotRefused(
        'too-large',
        `files larger than ${this.limits.max_file_size} bytes are not accepted`,
      );
    }
    const used = await this.files.usage(owner, now);
    if (used + req.size > this.limits.quota_bytes) {
      throw new SlotRefused(
        'quota',
        `your uploads would use more than your quota of ${this.limits.quota_bytes} bytes; older files expire over time`,
      );
    }
    const contentType =
      req.contentType && CONTENT_TYPE.test(req.contentType)
        ? req.contentType.toLowerCase()
        : 'application/octet-stream';
    const file: StoredFile = {
      id: randomBytes(24).toString('base64url'),
      owner,
      name: cleanFileName(req.filename),
      size: req.size,
      contentType,
      status: 'slot',
      createdAt: now,
      expiresAt: now + this.limits.slot_ttl_s * 1000,
    };
    await this.files.create(file);
    const url = `${this.origin}${UPLOAD_PATH}${file.id}/${encodeURIComponent(file.name)}`;
    return {
      put: url,
      get: this.downloadUrl(file),
      headers: { Authorization: `Bearer ${slotToken(this.keys.signKey, file)}` },
    };
  }

  /**
   * Takes the body of a PUT: checks the slot and its token, streams the bytes encrypted to disk
   * while hashing them, then scans. Resolves with the stored (clean) file; throws UploadFailed.
   */
  async receive(
    id: string,
    bearer: string | undefined,
    declaredLength: number | undefined,
    body: Readable,
    now = Date.now(),
  ): Promise<{ file: StoredFile; scan: ScanOutcome }> {
    const slot = await this.files.get(id);
    if (slot === undefined) throw new UploadFailed(404, 'no such upload slot');
    if (bearer === undefined || !verifySlotToken(this.keys.signKey, slot, bearer)) {
      throw new UploadFailed(403, 'the upload token is missing or wrong');
    }
    if (slot.status !== 'slot') throw new UploadFailed(409, 'this slot was already used');
    if (slot.expiresAt <= now) throw new UploadFailed(403, 'this upload slot has expired');
    if (declaredLength !== undefined && declaredLength !== slot.size) {
      throw new UploadFailed(
        413,
        `the slot is for ${slot.size} bytes, the request announces ${declaredLength}`,
      );
    }
    if (!(await this.files.transition(id, 'slot', 'uploading'))) {
      throw new UploadFailed(409, 'this slot was already used');
    }
    // Until the bytes are in, the record only expires when the upload could no longer finish.
    await this.files.update(id, { expiresAt: now + this.limits.put_timeout_s * 1000 });

    const key = newFileKey();
    const hash = createHash('sha256');
    const partial = `${this.pathOf(id)}.part`;
    try {
      await pipeline(
        body,
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            done(null, chunk);
          },
        }),
        new EncryptStream(key, slot.size),
        createWriteStream(partial, { mode: 0o600 }),
      );
      await rename(partial, this.pathOf(id));
    } catch (err) {
      await rm(partial, { force: true });
      await this.files.remove(id);
      throw new UploadFailed(400, `the upload did not complete: ${(err as Error).message}`);
    }
    const sha256 = hash.digest('hex');
    const wrappedKey = wrapFileKey(this.keys.wrapKey, key, id);
    await this.files.update(id, { status: 'scanning', sha256, wrappedKey });
    const stored: StoredFile = { ...slot, status: 'scanning', sha256, wrappedKey };
    return this.runScan(stored, Date.now());
  }

  /** Scans a stored file and records the outcome: clean files are served, others held. */
  async runScan(
    file: StoredFile,
    now = Date.now(),
  ): Promise<{ file: StoredFile; scan: ScanOutcome }> {
    let scan: ScanOutcome;
    try {
      scan = await this.scan(this.scanInput(file));
    } catch (err) {
      const reason = `the file could not be scanned (${(err as Error).message})`;
      scan = {
        verdict: 'blocked',
        rule: 'files.scan-error',
        reason,
        findings: [{ rule: 'files.scan-error', mode: 'block', reason }],
      };
    }
    const patch: Partial<StoredFile> =
      scan.verdict === 'clean'
        ? { status: 'clean', expiresAt: now + this.limits.file_ttl_s * 1000 }
        : {
            status: 'quarantined',
            expiresAt: now + this.limits.file_ttl_s * 1000,
            verdictRule: scan.rule ?? 'files.blocked',
            verdictReason: scan.reason ?? 'the file was blocked',
          };
    if (scan.detectedType !== undefined) patch.detectedType = scan.detectedType;
    await this.files.update(file.id, patch);
    if (scan.verdict === 'clean' && file.sha256 !== undefined) {
      this.cleanHashes.set(file.id, file.sha256);
    }
    return { file: { ...file, ...patch }, scan };
  }

  scanInput(file: StoredFile): ScanInput {
    return {
      id: file.id,
      owner: file.owner,
      name: file.name,
      declaredType: file.contentType,
      size: file.size,
      sha256: file.sha256 ?? '',
      read: (start, end) => this.read(file, start, end),
    };
  }

  /**
   * Scans every servable file again (signatures or policy changed). A file that fails now is
   * held like any other; `onBad` hears of each one. Returns how many were scanned.
   */
  async rescanServed(onBad: (file: StoredFile, scan: ScanOutcome) => void): Promise<number> {
    const served = await this.files.list({ status: 'clean' });
    for (const file of served) {
      // Held while it is scanned, so it is not served meanwhile.
      if (!(await this.files.transition(file.id, 'clean', 'scanning'))) continue;
      const { file: after, scan } = await this.runScan({ ...file, status: 'scanning' });
      if (scan.verdict !== 'clean') {
        this.cleanHashes.delete(file.id);
        onBad(after, scan);
      } else {
        // A re-scan does not extend the file's life.
        await this.files.update(file.id, { expiresAt: file.expiresAt });
      }
    }
    return served.length;
  }

  /** Plaintext of a stored file (or a range of it). */
  read(file: StoredFile, start = 0, end = file.size): Readable {
    if (file.wrappedKey === undefined) throw new Error('file has no key yet');
    const key = unwrapFileKey(this.keys.wrapKey, file.wrappedKey, file.id);
    return decryptRange(this.pathOf(file.id), key, file.size, start, end);
  }

  async remove(file: Pick<StoredFile, 'id'>): Promise<void> {
    this.cleanHashes.delete(file.id);
    await rm(this.pathOf(file.id), { force: true });
    await rm(`${this.pathOf(file.id)}.part`, { force: true });
    await this.files.remove(file.id);
  }

  /** Deletes expired slots and files; returns how many went. */
  async sweep(now = Date.now()): Promise<number> {
    const gone = await this.files.expired(now);
    for (const f of gone) await this.remove(f);
    return gone.length;
  }
}
