import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import { ClamdUnavailable, clamdScan, parseReply } from '../../src/upload/scan/clamd.ts';
import { createFileScanner } from '../../src/upload/scan/pipeline.ts';
import {
  CLAMAV_HASH_FIXTURE,
  CLAMAV_MARKER,
  type Clamd,
  clamdSkipReason,
  startClamd,
} from '../helpers/clamd.ts';
import { ClientPool, type RawClient, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';
import { EICAR, makeZip, pdfFile, uploadFile } from '../helpers/upload.ts';

/** ClamAV through clamd's INSTREAM protocol, with the project's own signatures. */

const skip = clamdSkipReason();
if (skip) console.log(`# skipping the clamd tests: ${skip}`);

const markedText = () =>
  Buffer.concat([Buffer.from('quarterly numbers\n'), CLAMAV_MARKER, Buffer.from('\n')]);

describe('clamd INSTREAM client', { skip }, () => {
  let clamd: Clamd;
  before(async () => {
    clamd = await startClamd();
    console.log(`# private clamd answered PING ${clamd.startMs} ms after spawn`);
  });
  after(() => clamd?.stop());

  const scan = (data: Buffer, chunk = 1000) => {
    const parts: Buffer[] = [];
    for (let i = 0; i < data.length; i += chunk) parts.push(data.subarray(i, i + chunk));
    return clamdScan({ socket: clamd.socket }, Readable.from(parts), 5000);
  };

  it('finds the project signatures: EICAR, a body marker (also zipped) and an MD5', async () => {
    const eicar = await scan(EICAR);
    assert.equal(eicar.ok, false);
    assert.match(!eicar.ok ? eicar.signature : '', /^Rampart\.Test\.EICAR/);
    const marker = await scan(markedText(), 7);
    assert.match(!marker.ok ? marker.signature : '', /^Rampart\.Test\.Marker/);
    const zipped = await scan(makeZip([{ name: 'numbers.txt', data: markedText() }]));
    assert.match(!zipped.ok ? zipped.signature : '', /^Rampart\.Test\.Marker/);
    const hashed = await scan(CLAMAV_HASH_FIXTURE);
    assert.match(!hashed.ok ? hashed.signature : '', /^Rampart\.Test\.Hash/);
  });

  it('answers OK for a clean file, in many chunks', async () => {
    assert.deepEqual(await scan(Buffer.alloc(300_000, 'a'), 65_536), { ok: true });
  });
});

describe('clamd failures', () => {
  it('parses replies; anything but OK or FOUND is unavailability', () => {
    assert.deepEqual(parseReply('stream: OK'), { ok: true });
    assert.deepEqual(parseReply('stream: Win.Test.EICAR_HDB-1 FOUND'), {
      ok: false,
      signature: 'Win.Test.EICAR_HDB-1',
    });
    assert.throws(() => parseReply('INSTREAM size limit exceeded. ERROR'), ClamdUnavailable);
    assert.throws(() => parseReply(''), ClamdUnavailable);
  });

  it('a missing socket and a clamd that never answers are unavailability, within the timeout', async () => {
    await assert.rejects(
      clamdScan({ socket: join(tmpdir(), 'no-such-clamd.sock') }, Readable.from([EICAR]), 1000),
      ClamdUnavailable,
    );
    const silent: Server = createServer((s) => s.resume());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const t0 = Date.now();
    await assert.rejects(
      clamdScan({ host: '127.0.0.1', port }, Readable.from([pdfFile()]), 300),
      ClamdUnavailable,
    );
    assert.ok(Date.now() - t0 < 3000);
    silent.close();
  });

  it('fail-open serves after the other checks; fail-closed holds', async () => {
    const input = {
      id: 'x',
      owner: 'a@b',
      name: 'report.pdf',
      declaredType: 'application/pdf',
      size: pdfFile().length,
      sha256: '',
      read: () => Readable.from([pdfFile()]),
    };
    const socket = join(tmpdir(), 'no-such-clamd.sock');
    const closed = createFileScanner(
      configSchema.shape.upload_scan.parse({ clamd_socket: socket }),
    );
    const held = await closed(input);
    assert.equal(held.verdict, 'blocked');
    assert.equal(held.rule, 'files.clamav-unavailable');
    const open = createFileScanner(
      configSchema.shape.upload_scan.parse({ clamd_socket: socket, clamd_failure: 'open' }),
    );
    const served = await open(input);
    assert.equal(served.verdict, 'clean');
    assert.equal(served.findings[0]?.rule, 'files.clamav-unavailable');
    assert.equal(served.findings[0]?.mode, 'monitor');
  });
});

describe('uploads scanned by clamd', { skip }, () => {
  const PASSWORD = 'clamav tests 1';
  const pool = new ClientPool(() => server.ports.c2sTls, PASSWORD);
  let clamd: Clamd;
  let server: RampartProcess;
  let ida: RawClient;
  before(async () => {
    clamd = await startClamd();
    server = await startRampart({ config: `[upload_scan]\nclamd_socket = "${clamd.socket}"\n` });
    await server.addUser('ida', PASSWORD);
    ida = await pool.login('ida');
    ida.send(x('presence'));
  });
  after(async () => {
    pool.destroyAll();
    await server?.stop();
    await clamd?.stop();
  });

  it('a file only clamd knows is held with its signature; a clean one is served', async () => {
    const bad = await uploadFile(ida, 'numbers.txt', markedText(), 'text/plain');
    assert.equal(bad.put.status, 403, bad.put.body.toString());
    assert.equal(bad.put.json?.rule, 'files.clamav');
    assert.match(bad.put.json?.error ?? '', /Rampart\.Test\.Marker/);
    assert.equal(bad.get.status, 403);
    const zipped = await uploadFile(
      ida,
      'numbers.zip',
      makeZip([{ name: 'n.txt', data: markedText() }]),
    );
    assert.equal(zipped.put.json?.rule, 'files.clamav');
    const good = await uploadFile(ida, 'report.pdf', pdfFile(), 'application/pdf');
    assert.equal(good.put.status, 201, good.put.body.toString());
    assert.deepEqual(good.get.body, pdfFile());
  });

  it('with clamd down, uploads are held (fail-closed) and the uploader is told to retry', async () => {
    await clamd.stop();
    const r = await uploadFile(ida, 'report2.pdf', pdfFile(), 'application/pdf');
    assert.equal(r.put.status, 403, r.put.body.toString());
    assert.equal(r.put.json?.rule, 'files.clamav-unavailable');
    assert.match(r.put.json?.error ?? '', /not available/);
    assert.equal(r.get.status, 403);
  });
});
