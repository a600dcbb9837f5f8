import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ClientPool, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';
import { httpRequest, putFile, requestSlot } from '../helpers/upload.ts';

/**
 * Re-scan: a file served yesterday is scanned again when the scanning policy changes (here the
 * deny list, across a restart). Found bad, it is no longer served, its uploader is told, and
 * the message that linked it is taken back from its recipient (zero-hour purge).
 */

const PASSWORD = 'rescan tests 1';
const FILE = Buffer.from('a report that turns out to be known-bad later\n');
const sha = createHash('sha256').update(FILE).digest('hex');
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-rescan-'));
let server: RampartProcess | undefined;
const pool = new ClientPool(() => server!.ports.c2sTls, PASSWORD);

after(async () => {
  pool.destroyAll();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('re-scan when the scanning policy changes', () => {
  it('a file on a new deny list stops being served and its link is retracted', async () => {
    server = await startRampart({ dataDir });
    for (const u of ['ada', 'bea']) await server.addUser(u, PASSWORD);
    await server.addContacts('ada', 'bea');
    const ada = await pool.login('ada');
    const bea = await pool.login('bea');
    ada.send(x('presence'));
    bea.send(x('presence'));
    const slot = await requestSlot(ada, 'report.txt', FILE.length, 'text/plain');
    assert.equal((await putFile(slot, FILE)).status, 201);
    ada.send(
      x('message', { to: 'bea@localhost', type: 'chat', id: 'r1' }, x('body', {}, slot.get)),
    );
    await bea.next((el) => el.name === 'message' && el.attrs.id === 'r1', 'the link');
    pool.destroyAll();
    await server.stop();

    server = await startRampart({ dataDir, config: `[upload_scan]\ndeny_sha256 = ["${sha}"]\n` });
    const url = slot.get.replace(/:\d+\//, `:${server.ports.https}/`);
    let status = 0;
    for (let i = 0; i < 100 && status !== 403; i++) {
      status = (await httpRequest('GET', url)).status;
      if (status !== 403) await new Promise((r) => setTimeout(r, 100));
    }
    const held = await httpRequest('GET', url);
    assert.equal(held.status, 403, held.body.toString());
    assert.equal(held.json?.rule, 'files.deny-list');

    const bea2 = await pool.login('bea');
    bea2.send(x('presence'));
    const retraction = await bea2.next(
      (el) => el.name === 'message' && el.getChild('retract')?.attrs.id === 'r1',
      'the retraction of r1',
      10_000,
    );
    assert.equal(retraction.getChild('retract')?.xmlns, 'urn:xmpp:message-retract:1');
    const ada2 = await pool.login('ada');
    ada2.send(x('presence'));
    const notice = await ada2.next(
      (el) => el.name === 'message' && el.attrs.from === 'localhost',
      'the notice to the uploader',
    );
    assert.match(notice.getChildText('body') ?? '', /failed a new scan/);
  });
});
