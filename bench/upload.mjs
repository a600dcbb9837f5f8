#!/usr/bin/env node
// npm run bench:upload [-- options]
// File upload (XEP-0363) measured two ways:
// 1. Scan throughput, in MB/s, of the built-in checks (EICAR, magic-byte type, name/type,
//    type policy, zip inspection, deny list) and of clamd (INSTREAM, the project's test
//    signatures) on a mixed set of files made here: PDFs, PNGs, DOCX and ZIP archives, text,
//    random binary.
// 2. One large upload end to end through a real server and a real XMPP session: slot over
//    XMPP, PUT over HTTPS (streamed), scan (built-in + clamd when available), GET back and
//    compare the SHA-256; wall times and the server's resident memory (VmRSS before, VmHWM
//    peak) from /proc.
//
//   --size MB (200)  --set-mb MB (64: size of the mixed set)  --no-clamd  --json FILE
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { configSchema } from '../src/config/schema.ts';
import { clamdScan } from '../src/upload/scan/clamd.ts';
import { createFileScanner } from '../src/upload/scan/pipeline.ts';
import { clamdSkipReason, startClamd } from '../test/helpers/clamd.ts';
import { RawClient } from '../test/helpers/raw-client.ts';
import { startRampart } from '../test/helpers/server.ts';
import {
  docxFile,
  httpRequest,
  makeZip,
  pdfFile,
  pngFile,
  requestSlot,
} from '../test/helpers/upload.ts';

const { values: opt } = parseArgs({
  options: {
    size: { type: 'string', default: '200' },
    'set-mb': { type: 'string', default: '64' },
    'no-clamd': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const SIZE = Number(opt.size) * 1024 * 1024;
const SET_BYTES = Number(opt['set-mb']) * 1024 * 1024;
const MB = 1024 * 1024;
const useClamd = !opt['no-clamd'] && clamdSkipReason() === undefined;

/** A mixed set: small documents and pictures, archives of them, text and random binary. */
function mixedSet() {
  const files = [];
  let total = 0;
  // Word-like text that compresses about as well as prose (3-4:1), not a repeated line.
  const text = (n) => {
    const letters = 'etaoinshrdlucmfwypvbgkqjxz';
    const r = randomBytes(n);
    let out = '';
    for (let k = 0; k < n; k++) out += r[k] % 6 === 0 ? ' ' : letters[r[k] % 13];
    return Buffer.from(out);
  };
  const makers = [
    () => ['report.pdf', Buffer.concat([pdfFile(), randomBytes(300 * 1024)])],
    () => ['photo.png', Buffer.concat([pngFile(), randomBytes(900 * 1024)])],
    () => ['letter.docx', docxFile()],
    () => ['notes.txt', text(200 * 1024)],
    () => [
      'bundle.zip',
      makeZip([
        { name: 'a.txt', data: text(2 * MB) },
        { name: 'b.bin', data: randomBytes(MB), deflate: false },
        { name: 'c.docx', data: docxFile() },
      ]),
    ],
    () => ['video.mp4', randomBytes(4 * MB)],
  ];
  for (let i = 0; total < SET_BYTES; i++) {
    const [name, data] = makers[i % makers.length]();
    files.push({ name: `${i}-${name}`, data });
    total += data.length;
  }
  return { files, total };
}

const inputOf = (f) => ({
  id: 'bench',
  owner: 'bench@localhost',
  name: f.name,
  declaredType: 'application/octet-stream',
  size: f.data.length,
  sha256: createHash('sha256').update(f.data).digest('hex'),
  read: (start = 0, end = f.data.length) => Readable.from([f.data.subarray(start, end)]),
});

async function time(fn) {
  const t0 = performance.now();
  const out = await fn();
  return { ms: performance.now() - t0, out };
}

const results = {
  when: new Date().toISOString(),
  cpu: cpus()[0]?.model,
  cpus: cpus().length,
  node: process.version,
  loadavg: loadavg(),
};

// 1. Scan throughput
const set = mixedSet();
const builtin = createFileScanner(configSchema.shape.upload_scan.parse({}));
for (const f of set.files.slice(0, 6)) await builtin(inputOf(f)); // warm up
const b = await time(async () => {
  for (const f of set.files) {
    const r = await builtin(inputOf(f));
    if (r.verdict !== 'clean') throw new Error(`${f.name}: ${r.rule} ${r.reason}`);
  }
});
results.set = { files: set.files.length, mb: +(set.total / MB).toFixed(1) };
results.builtinMBs = +(set.total / MB / (b.ms / 1000)).toFixed(1);
console.log(`mixed set: ${set.files.length} files, ${(set.total / MB).toFixed(1)} MiB`);
console.log(`built-in checks: ${b.ms.toFixed(0)} ms, ${results.builtinMBs} MB/s`);

let clamd;
if (useClamd) {
  clamd = await startClamd([
    `StreamMaxLength ${Math.ceil(SIZE / MB) + 16}M`,
    `MaxScanSize ${Math.ceil(SIZE / MB) + 16}M`,
    `MaxFileSize ${Math.ceil(SIZE / MB) + 16}M`,
  ]);
  results.clamdStartMs = clamd.startMs;
  const c = await time(async () => {
    for (const f of set.files) {
      const v = await clamdScan({ socket: clamd.socket }, Readable.from([f.data]), 60_000);
      if (!v.ok) throw new Error(`${f.name}: ${v.signature}`);
    }
  });
  results.clamdMBs = +(set.total / MB / (c.ms / 1000)).toFixed(1);
  console.log(
    `clamd INSTREAM: ${c.ms.toFixed(0)} ms, ${results.clamdMBs} MB/s (clamd up in ${clamd.startMs} ms)`,
  );
} else console.log(`clamd: skipped (${opt['no-clamd'] ? '--no-clamd' : clamdSkipReason()})`);

// 2. One large upload end to end
const scanTable = clamd
  ? `[upload_scan]\nclamd_socket = "${clamd.socket}"\nclamd_timeout_ms = 600000\n`
  : '';
const server = await startRampart({
  config: `[upload]\nmax_file_size = ${SIZE}\nquota_bytes = ${SIZE * 2}\n${scanTable}`,
});
try {
  await server.addUser('bench', 'bench password 1');
  const client = await RawClient.login({
    port: server.ports.c2sTls,
    directTls: true,
    username: 'bench',
    password: 'bench password 1',
  });
  const mem = () => {
    const s = readFileSync(`/proc/${server.pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1]);
    return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
  };
  const before = mem();
  const chunk = randomBytes(MB);
  const sent = createHash('sha256');
  let n = 0;
  const body = new Readable({
    read() {
      if (n >= SIZE) return this.push(null);
      const part = chunk.subarray(0, Math.min(MB, SIZE - n));
      // Each MiB differs (its index written in), so the file is not one repeated block.
      part.writeUInt32BE(n / MB, 0);
      n += part.length;
      sent.update(part);
      this.push(Buffer.from(part));
    },
  });
  const slot = await requestSlot(client, 'big.bin', SIZE);
  const put = await time(() =>
    httpRequest('PUT', slot.put, {
      headers: { ...slot.headers, 'content-length': String(SIZE) },
      body,
    }),
  );
  if (put.out.status !== 201) throw new Error(`PUT ${put.out.status} ${put.out.body}`);
  const afterPut = mem();
  const get = await time(() => httpRequest('GET', slot.get));
  const same = createHash('sha256').update(get.out.body).digest('hex') === sent.digest('hex');
  if (get.out.status !== 200 || !same)
    throw new Error(`GET ${get.out.status}, same bytes: ${same}`);
  const after = mem();
  client.destroy();
  results.e2e = {
    mb: SIZE / MB,
    clamd: Boolean(clamd),
    putAndScanS: +(put.ms / 1000).toFixed(2),
    getS: +(get.ms / 1000).toFixed(2),
    rssBeforeMiB: +(before.rss / MB).toFixed(1),
    peakBeforeMiB: +(before.hwm / MB).toFixed(1),
    peakAfterPutMiB: +(afterPut.hwm / MB).toFixed(1),
    peakAfterGetMiB: +(after.hwm / MB).toFixed(1),
    rssAfterMiB: +(after.rss / MB).toFixed(1),
  };
  console.log(
    `${SIZE / MB} MiB end to end${clamd ? ' (with clamd)' : ''}: PUT+scan ${results.e2e.putAndScanS} s, GET ${results.e2e.getS} s; server RSS ${results.e2e.rssBeforeMiB} MiB before, peak ${results.e2e.peakBeforeMiB} → ${results.e2e.peakAfterPutMiB} (after PUT) → ${results.e2e.peakAfterGetMiB} MiB (after GET)`,
  );
} finally {
  await server.stop();
  await clamd?.stop();
}
if (opt.json) appendFileSync(opt.json, `${JSON.stringify(results)}\n`);
console.log(JSON.stringify(results));
