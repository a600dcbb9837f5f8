import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';

/**
 * Files at rest: the plaintext is cut into chunks of CHUNK bytes, each sealed with AES-256-GCM
 * under the file's own key. The nonce is the chunk's index and the AAD says whether it is the
 * last chunk, so chunks cannot be reordered, dropped or the file cut short without detection.
 * Any range can be read by decrypting only the chunks it touches (archive inspection seeks).
 */

export const CHUNK = 64 * 1024;
const TAG = 16;
export const SEALED_CHUNK = CHUNK + TAG;

function nonce(index: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUIntBE(index, 6, 6);
  return iv;
}

function aad(last: boolean): Buffer {
  return Buffer.from([last ? 1 : 0]);
}

export function newFileKey(): Buffer {
  return randomBytes(32);
}

function sealChunk(key: Buffer, index: number, last: boolean, plain: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce(index));
  c.setAAD(aad(last));
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

function openChunk(key: Buffer, index: number, last: boolean, sealed: Buffer): Buffer {
  if (sealed.length < TAG) throw new Error('stored file is truncated');
  const d = createDecipheriv('aes-256-gcm', key, nonce(index));
  d.setAAD(aad(last));
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
}

/** How many chunks a plaintext of `size` bytes takes (an empty file is one empty chunk). */
export function chunkCount(size: number): number {
  return Math.max(1, Math.ceil(size / CHUNK));
}

/** Size on disk of a file whose plaintext is `size` bytes. */
export function sealedSize(size: number): number {
  return size + chunkCount(size) * TAG;
}

/** Encrypts a plaintext stream of exactly `size` bytes into the chunked format. */
export class EncryptStream extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;
  private seen = 0;

  constructor(
    private readonly key: Buffer,
    private readonly size: number,
  ) {
    super();
  }

  override _transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += data.length;
    if (this.seen > this.size) {
      done(new Error('more bytes than declared'));
      return;
    }
    this.pending.push(data);
    this.pendingBytes += data.length;
    while (this.pendingBytes >= CHUNK) {
      const all = Buffer.concat(this.pending);
      const plain = all.subarray(0, CHUNK);
      const rest = all.subarray(CHUNK);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      const last = this.index === chunkCount(this.size) - 1;
      this.push(sealChunk(this.key, this.index++, last, plain));
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.seen !== this.size) {
      done(new Error('fewer bytes than declared'));
      return;
    }
    if (this.index < chunkCount(this.size)) {
      this.push(sealChunk(this.key, this.index++, true, Buffer.concat(this.pending)));
    }
    done();
  }
}

/**
 * Reads plaintext bytes [start, end) of a sealed file as a stream, decrypting only the chunks
 * the range touches, one at a time.
 */
export function decryptRange(
  path: string,
  key: Buffer,
  size: number,
  start = 0,
  end = size,
): Readable {
  const total = chunkCount(size);
  let index = Math.floor(start / CHUNK);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  const close = async () => {
    const h = handle;
    handle = undefined;
    await h?.close();
  };
  return new Readable({
    highWaterMark: CHUNK,
    async read() {
      try {
        if (start >= end || index >= total) {
          await close();
          this.push(null);
          return;
        }
        handle ??= await open(path, 'r');
        const sealedLen = index === total - 1 ? size - index * CHUNK + TAG : SEALED_CHUNK;
        const buf = Buffer.alloc(sealedLen);
        const { bytesRead } = await handle.read(buf, 0, sealedLen, index * SEALED_CHUNK);
        const plain = openChunk(key, index, index === total - 1, buf.subarray(0, bytesRead));
        const from = Math.max(0, start - index * CHUNK);
        const to = Math.min(plain.length, end - index * CHUNK);
        index++;
        start = index * CHUNK;
        this.push(plain.subarray(from, to));
      } catch (err) {
        await close().catch(() => {});
        this.destroy(err as Error);
      }
    },
    destroy(err, cb) {
      close().then(
        () => cb(err),
        () => cb(err),
      );
    },
  });
}

/** Wraps a per-file key with the master wrap key (AES-256-GCM); base64 of iv|ct|tag. */
export function wrapFileKey(wrapKey: Buffer, fileKey: Buffer, fileId: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', wrapKey, iv);
  c.setAAD(Buffer.from(fileId));
  return Buffer.concat([iv, c.update(fileKey), c.final(), c.getAuthTag()]).toString('base64');
}

export function unwrapFileKey(wrapKey: Buffer, wrapped: string, fileId: string): Buffer {
  const raw = Buffer.from(wrapped, 'base64');
  const d = createDecipheriv('aes-256-gcm', wrapKey, raw.subarray(0, 12));
  d.setAAD(Buffer.from(fileId));
  d.setAuthTag(raw.subarray(raw.length - TAG));
  return Buffer.concat([d.update(raw.subarray(12, raw.length - TAG)), d.final()]);
}
