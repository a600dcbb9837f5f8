import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import {
  CHUNK,
  decryptRange,
  EncryptStream,
  newFileKey,
  sealedSize,
  unwrapFileKey,
  wrapFileKey,
} from '../../src/upload/file-crypto.ts';

const dir = mkdtempSync(join(tmpdir(), 'rampart-crypto-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function seal(plain: Buffer, key: Buffer): Promise<string> {
  const path = join(dir, `f${n++}`);
  // Odd-sized pieces, so chunk boundaries never line up with writes.
  const pieces: Buffer[] = [];
  for (let i = 0; i < plain.length; i += 7777) pieces.push(plain.subarray(i, i + 7777));
  await pipeline(
    Readable.from(pieces),
    new EncryptStream(key, plain.length),
    createWriteStream(path),
  );
  return path;
}

async function read(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

describe('chunked AES-256-GCM at rest', () => {
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 123]) {
    it(`round-trips ${size} bytes and reads any range`, async () => {
      const key = newFileKey();
      const plain = randomBytes(size);
      const path = await seal(plain, key);
      assert.equal(statSync(path).size, sealedSize(size));
      assert.equal(readFileSync(path).includes(plain.subarray(0, 32)) && size >= 32, false);
      assert.deepEqual(await read(decryptRange(path, key, size)), plain);
      const a = Math.floor(size / 3);
      const b = Math.floor((2 * size) / 3) + 1;
      assert.deepEqual(
        await read(decryptRange(path, key, size, a, Math.min(b, size))),
        plain.subarray(a, b),
      );
    });
  }

  it('detects a flipped byte, a truncated file and the wrong key', async () => {
    const key = newFileKey();
    const plain = randomBytes(2 * CHUNK + 10);
    const path = await seal(plain, key);
    const bytes = readFileSync(path);
    bytes[CHUNK + 100]! ^= 1;
    writeFileSync(path, bytes);
    await assert.rejects(read(decryptRange(path, key, plain.length)));
    const cut = await seal(plain, key);
    writeFileSync(cut, readFileSync(cut).subarray(0, 2 * (CHUNK + 16)));
    await assert.rejects(read(decryptRange(cut, key, plain.length)));
    const ok = await seal(plain, key);
    await assert.rejects(read(decryptRange(ok, newFileKey(), plain.length)));
  });

  it('refuses more or fewer bytes than declared', async () => {
    const key = newFileKey();
    await assert.rejects(
      pipeline(
        Readable.from([randomBytes(10)]),
        new EncryptStream(key, 9),
        createWriteStream(join(dir, 'x')),
      ),
      /more bytes/,
    );
    await assert.rejects(
      pipeline(
        Readable.from([randomBytes(10)]),
        new EncryptStream(key, 11),
        createWriteStream(join(dir, 'y')),
      ),
      /fewer bytes/,
    );
  });

  it('wraps a file key bound to its file id', () => {
    const wrap = randomBytes(32);
    const key = newFileKey();
    const wrapped = wrapFileKey(wrap, key, 'id1');
    assert.deepEqual(unwrapFileKey(wrap, wrapped, 'id1'), key);
    assert.throws(() => unwrapFileKey(wrap, wrapped, 'id2'));
  });
});
