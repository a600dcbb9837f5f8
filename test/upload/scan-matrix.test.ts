import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { ClientPool, is, type RawClient, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';
import {
  docmFile,
  docxFile,
  EICAR,
  elfFile,
  lnkFile,
  makeZip,
  pdfFile,
  peFile,
  pngFile,
  uploadFile,
} from '../helpers/upload.ts';

/**
 * The scan gate, through a real session and real HTTPS: each file is uploaded into a slot,
 * and must either come back unchanged (clean) or be refused on PUT with the rule that held
 * it, never be served, and leave the uploader a labelled notice from the domain.
 */

const PASSWORD = 'scan matrix 1';
const DENIED = Buffer.from('a file an admin put on the deny list\n');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const pool = new ClientPool(() => server.ports.c2sTls, PASSWORD);
let server: RampartProcess;
let uma: RawClient;

before(async () => {
  server = await startRampart({
    config: `[upload_scan]\ndeny_sha256 = ["${sha(DENIED)}"]\n`,
  });
  await server.addUser('uma', PASSWORD);
  uma = await pool.login('uma');
  uma.send(x('presence'));
});
after(async () => {
  pool.destroyAll();
  await server?.stop();
});

/** 20 MiB of zeros deflate to about 20 KiB: a ratio near 1000:1. */
const bomb = () => makeZip([{ name: 'zeros.bin', data: Buffer.alloc(20 * 1024 * 1024) }]);

const blocked: [string, string, () => Buffer, string][] = [
  ['EICAR', 'eicar.txt', () => EICAR, 'files.eicar'],
  ['EICAR zipped', 'eicar.zip', () => makeZip([{ name: 'eicar.txt', data: EICAR }]), 'files.eicar'],
  [
    'EICAR zipped twice',
    'eicar2.zip',
    () => makeZip([{ name: 'inner.zip', data: makeZip([{ name: 'eicar.txt', data: EICAR }]) }]),
    'files.eicar',
  ],
  ['a PE program', 'setup.exe', () => peFile(), 'files.type-policy'],
  ['a PE program named .jpg', 'holiday.jpg', () => peFile(), 'files.type-policy'],
  ['an ELF program', 'tool', () => elfFile(), 'files.type-policy'],
  ['an ELF program named .pdf', 'paper.pdf', () => elfFile(), 'files.type-policy'],
  ['a screensaver', 'pretty.scr', () => peFile(), 'files.type-policy'],
  ['a shortcut', 'documents.lnk', () => lnkFile(), 'files.type-policy'],
  ['a macro-enabled Word file', 'invoice.docm', () => docmFile(), 'files.type-policy'],
  ['a macro-enabled Word file named .docx', 'invoice.docx', () => docmFile(), 'files.type-policy'],
  [
    'a shell script named .txt',
    'run.txt',
    () => Buffer.from('#!/bin/sh\nrm -rf ~\n'),
    'files.type-policy',
  ],
  [
    'a program inside a zip',
    'tools.zip',
    () => makeZip([{ name: 'a/b/tool.exe', data: peFile() }]),
    'files.type-policy',
  ],
  ['a zip bomb', 'bomb.zip', bomb, 'files.archive-bomb'],
  [
    'an encrypted zip',
    'secret.zip',
    () => makeZip([{ name: 'plans.txt', data: Buffer.from('plans'), encrypted: true }]),
    'files.archive-encrypted',
  ],
  ['a picture named .pdf', 'scan.pdf', () => pngFile(), 'files.name-mismatch'],
  ['a file on the deny list', 'notes.txt', () => DENIED, 'files.deny-list'],
];

const clean: [string, string, () => Buffer, string][] = [
  ['a PDF', 'report.pdf', pdfFile, 'application/pdf'],
  ['a PNG', 'pixel.png', pngFile, 'image/png'],
  [
    'a DOCX',
    'letter.docx',
    docxFile,
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  ],
  [
    'a ZIP of documents',
    'bundle.zip',
    () =>
      makeZip([
        { name: 'a.txt', data: Buffer.from('hello') },
        { name: 'pics/pixel.png', data: pngFile() },
        { name: 'more.zip', data: makeZip([{ name: 'b.pdf', data: pdfFile() }]) },
      ]),
    'application/zip',
  ],
  ['plain text', 'notes.md', () => Buffer.from('# Notes\nnothing to see\n'), 'text/markdown'],
];

describe('upload scanning: files that must not pass', () => {
  for (const [label, name, make, rule] of blocked) {
    it(`${label} (${name}) is held by ${rule} and never served`, async () => {
      const body = make();
      const { put, get } = await uploadFile(uma, name, body);
      assert.equal(put.status, 403, `${put.status} ${put.body}`);
      assert.equal(put.json?.rule, rule, put.body.toString());
      assert.match(put.json?.error ?? '', /^upload blocked: /);
      assert.equal(get.status, 403, get.body.toString());
      assert.equal(get.json?.rule, rule);
      assert.equal(get.body.includes(body.subarray(0, 16)), false);
      const notice = await uma.next(
        (el) =>
          is.message('localhost')(el) && (el.getChildText('body') ?? '').includes(`"${name}"`),
        `notice about ${name}`,
      );
      assert.match(notice.getChildText('body') ?? '', /^Your upload ".*" was blocked/);
      assert.equal(notice.getChild('notice', 'urn:rampart:notice:0')?.attrs.rule, rule);
    });
  }
});

describe('upload scanning: files that pass', () => {
  for (const [label, name, make, type] of clean) {
    it(`${label} (${name}) is served unchanged`, async () => {
      const body = make();
      const { put, get } = await uploadFile(uma, name, body, type);
      assert.equal(put.status, 201, put.body.toString());
      assert.equal(get.status, 200, get.body.toString());
      assert.deepEqual(get.body, body);
    });
  }
});

describe('security events', () => {
  it('record hash, real type, rule and verdict for every finding', async () => {
    const exe = peFile('events');
    await uploadFile(uma, 'cat.jpg', exe);
    const storage = openSqliteStorage(join(server.dataDir, 'rampart.db'));
    try {
      const events = (await storage.events.list({ actor: 'uma@localhost' })).filter(
        (e) => e.evidence?.name === 'cat.jpg',
      );
      const byRule = new Map(events.map((e) => [e.rule, e]));
      for (const rule of ['files.type-policy', 'files.name-mismatch']) {
        const e = byRule.get(rule);
        assert.ok(e, `no ${rule} event: ${JSON.stringify(events)}`);
        assert.equal(e.verdict, 'quarantine');
        assert.equal(e.threat, 'T3');
        assert.equal(e.evidence?.sha256, sha(exe));
        assert.equal(e.evidence?.realType, 'exe');
      }
    } finally {
      await storage.close();
    }
  });
});

describe('quarantine administration', () => {
  it('lists held files with rule and hash; release serves one, delete removes one', async () => {
    const exe = peFile('release me');
    const held = await uploadFile(uma, 'keep.exe', exe);
    const gone = await uploadFile(uma, 'drop.exe', peFile('delete me'));
    const list = await server.cli(['files', 'quarantine', 'list']);
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    const row = rows.find((r) => r[2] === 'keep.exe');
    assert.ok(row, list.stdout);
    assert.equal(row[1], 'uma@localhost');
    assert.equal(row[4], 'exe');
    assert.equal(row[5], 'files.type-policy');
    assert.equal(row[7], sha(exe));
    const keepId = row[0]!;
    const dropId = rows.find((r) => r[2] === 'drop.exe')![0]!;

    const released = await server.cli(['files', 'quarantine', 'release', keepId]);
    assert.equal(released.code, 0, released.stderr);
    const { httpRequest } = await import('../helpers/upload.ts');
    const after = await httpRequest('GET', held.slot.get);
    assert.equal(after.status, 200);
    assert.deepEqual(after.body, exe);

    const deleted = await server.cli(['files', 'quarantine', 'delete', dropId]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await httpRequest('GET', gone.slot.get)).status, 404);
    const bad = await server.cli(['files', 'quarantine', 'purge']);
    assert.equal(bad.code, 2);
  });
});
