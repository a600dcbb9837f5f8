import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { isEicar } from './eicar.ts';
import { detectType, type RealType } from './file-kind.ts';

/**
 * Zip inspection over any random-access source (the encrypted upload is read range by range,
 * never whole): every entry's real type, name, hash and EICAR check, archives inside archives
 * to a depth limit, encrypted entries, and zip bombs by ratio and by total expanded size.
 * Entry data is streamed and counted as it is inflated, so declared sizes cannot lie.
 */

export interface ArchiveLimits {
  maxDepth: number;
  maxEntries: number;
  maxExpandedBytes: number;
  maxRatio: number;
}

/** What the pipeline judges about one entry (the same checks as for a top-level file). */
export interface EntryFacts {
  /** Path inside the upload, outermost archive first. */
  path: string;
  name: string;
  size: number;
  real: RealType | undefined;
  sha256: string;
  eicar: boolean;
}

export type ArchiveProblem =
  | { kind: 'bomb'; path: string; detail: string }
  | { kind: 'encrypted'; path: string }
  | { kind: 'too-deep'; path: string }
  | { kind: 'unreadable'; path: string; detail: string };

export interface ArchiveReport {
  entries: EntryFacts[];
  problems: ArchiveProblem[];
  expandedBytes: number;
}

/** A nested archive is inflated into memory to be opened; larger ones are not opened. */
const MAX_NESTED_BYTES = 64 * 1024 * 1024;
const HEAD_BYTES = 64 * 1024;
const RATIO_FLOOR = 1024 * 1024;

class RangeReader extends yauzl.RandomAccessReader {
  constructor(private readonly readRange: (start: number, end: number) => Readable) {
    super();
  }
  override _readStreamForRange(start: number, end: number): Readable {
    return this.readRange(start, end);
  }
}

export function isZip(head: Buffer): boolean {
  const sig = head.subarray(0, 4).toString('latin1');
  return sig === 'PK\x03\x04' || sig === 'PK\x05\x06';
}

export async function inspectZip(
  size: number,
  readRange: (start: number, end: number) => Readable,
  limits: ArchiveLimits,
  outerName: string,
): Promise<ArchiveReport> {
  const report: ArchiveReport = { entries: [], problems: [], expandedBytes: 0 };
  let zip: ZipFile;
  try {
    zip = await yauzl.fromRandomAccessReaderPromise(new RangeReader(readRange), size, {
      lazyEntries: true,
      autoClose: false,
    });
  } catch (err) {
    report.problems.push({ kind: 'unreadable', path: outerName, detail: (err as Error).message });
    return report;
  }
  await walk(zip, outerName, 1, limits, report);
  return report;
}

async function walk(
  zip: ZipFile,
  prefix: string,
  depth: number,
  limits: ArchiveLimits,
  report: ArchiveReport,
): Promise<void> {
  try {
    for await (const entry of zip.eachEntry()) {
      if (report.problems.some((p) => p.kind === 'bomb')) return;
      if (report.entries.length >= limits.maxEntries) {
        report.problems.push({
          kind: 'bomb',
          path: prefix,
          detail: `more than ${limits.maxEntries} entries`,
        });
        return;
      }
      if (entry.fileName.endsWith('/')) continue;
      await visit(zip, entry, prefix, depth, limits, report);
    }
  } catch (err) {
    report.problems.push({ kind: 'unreadable', path: prefix, detail: (err as Error).message });
  } finally {
    zip.close();
  }
}

async function visit(
  zip: ZipFile,
  entry: Entry,
  prefix: string,
  depth: number,
  limits: ArchiveLimits,
  report: ArchiveReport,
): Promise<void> {
  const path = `${prefix}/${entry.fileName}`;
  if (entry.isEncrypted()) {
    report.problems.push({ kind: 'encrypted', path });
    return;
  }
  const declared = report.expandedBytes + entry.uncompressedSize;
  if (declared > limits.maxExpandedBytes) {
    report.problems.push({
      kind: 'bomb',
      path,
      detail: `expands to more than ${limits.maxExpandedBytes} bytes`,
    });
    return;
  }
  if (
    entry.uncompressedSize > RATIO_FLOOR &&
    entry.uncompressedSize / Math.max(1, entry.compressedSize) > limits.maxRatio
  ) {
    report.problems.push({
      kind: 'bomb',
      path,
      detail: `compression ratio ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))}:1 above ${limits.maxRatio}:1`,
    });
    return;
  }
  const stream = await zip.openReadStreamPromise(entry);
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headBytes = 0;
  const keep: Buffer[] = [];
  const nestedCandidate = entry.uncompressedSize <= MAX_NESTED_BYTES;
  let n = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    n += chunk.length;
    report.expandedBytes += chunk.length;
    if (report.expandedBytes > limits.maxExpandedBytes) {
      stream.destroy();
      report.problems.push({
        kind: 'bomb',
        path,
        detail: `expands to more than ${limits.maxExpandedBytes} bytes`,
      });
      return;
    }
    hash.update(chunk);
    if (headBytes < HEAD_BYTES) {
      head.push(chunk);
      headBytes += chunk.length;
    }
    if (nestedCandidate && depth < limits.maxDepth) keep.push(chunk);
  }
  const headBuf = Buffer.concat(head).subarray(0, HEAD_BYTES);
  const facts: EntryFacts = {
    path,
    name: entry.fileName.split('/').pop() ?? entry.fileName,
    size: n,
    real: await detectType(headBuf),
    sha256: hash.digest('hex'),
    eicar: isEicar(headBuf, n),
  };
  report.entries.push(facts);
  if (!isZip(headBuf)) return;
  if (depth >= limits.maxDepth || !nestedCandidate) {
    report.problems.push({ kind: 'too-deep', path });
    return;
  }
  const inner = Buffer.concat(keep);
  let innerZip: ZipFile;
  try {
    innerZip = await yauzl.fromBufferPromise(inner, { lazyEntries: true, autoClose: false });
  } catch (err) {
    report.problems.push({ kind: 'unreadable', path, detail: (err as Error).message });
    return;
  }
  await walk(innerZip, path, depth + 1, limits, report);
}
