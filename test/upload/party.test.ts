import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ClientPool, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';
import { httpRequest, pdfFile, putFile, requestSlot } from '../helpers/upload.ts';

/**
 * download_access = "party": a download URL names its party and is signed; when the uploader
 * sends it to a contact, the server rewrites it into the contact's own URL.
 */

const PASSWORD = 'party tests 1';
const PUBLIC = 'files.example.com:8443';
/** The same URL, dialled on the test server's real port. */
const local = (url: string) => url.replace(PUBLIC, `localhost:${server.ports.https}`);
const pool = new ClientPool(() => server.ports.c2sTls, PASSWORD);
let server: RampartProcess;

before(async () => {
  // A public name on an unusual port, as behind a proxy: the URL judge would flag the port.
  server = await startRampart({
    config: `[upload]\ndownload_access = "party"\npublic_url = "https://${PUBLIC}"\n`,
  });
  for (const u of ['ada', 'bea']) await server.addUser(u, PASSWORD);
  await server.addContacts('ada', 'bea');
});
after(async () => {
  pool.destroyAll();
  await server?.stop();
});

describe('downloads only for the parties of a conversation', () => {
  it('the uploader’s link works, a bare or forged one does not, the recipient gets their own', async () => {
    const ada = await pool.login('ada');
    const bea = await pool.login('bea');
    ada.send(x('presence'));
    bea.send(x('presence'));
    const slot = await requestSlot(ada, 'minutes.pdf', pdfFile().length, 'application/pdf');
    assert.equal((await putFile({ ...slot, put: local(slot.put) }, pdfFile())).status, 201);
    const own = new URL(slot.get);
    assert.equal(own.searchParams.get('for'), 'ada@localhost');
    assert.equal((await httpRequest('GET', local(slot.get))).status, 200);
    const bare = `${own.origin}${own.pathname}`;
    assert.equal((await httpRequest('GET', local(bare))).status, 403);
    const forged = new URL(slot.get);
    forged.searchParams.set('for', 'bea@localhost');
    assert.equal((await httpRequest('GET', local(forged.toString()))).status, 403);

    ada.send(
      x(
        'message',
        { to: 'bea@localhost', type: 'chat', id: 'p1' },
        x('body', {}, `the minutes: ${slot.get}`),
        x('x', { xmlns: 'jabber:x:oob' }, x('url', {}, slot.get)),
        // A client may not label files itself: the server removes this and writes its own.
        x(
          'upload',
          { xmlns: 'urn:rampart:upload:0', id: 'forged' },
          x('hash', { xmlns: 'urn:xmpp:hashes:2', algo: 'sha-256' }, 'AAAA'),
        ),
      ),
    );
    const got = await bea.next((el) => el.name === 'message' && el.attrs.id === 'p1', 'the link');
    const url = got.getChild('x', 'jabber:x:oob')?.getChildText('url') ?? '';
    // The server's own links lead to scanned files: no warning label despite the odd port.
    assert.equal(got.getChild('verdict', 'urn:rampart:verdict:0'), undefined, got.toString());
    assert.equal(new URL(url).searchParams.get('for'), 'bea@localhost');
    assert.ok(got.getChildText('body')?.endsWith(url), got.toString());
    const r = await httpRequest('GET', local(url));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, pdfFile());

    // The link is labelled with the file's SHA-256 (what fan-out detection counts).
    const labels = got.getChildren('upload', 'urn:rampart:upload:0');
    assert.equal(labels.length, 1, got.toString());
    assert.equal(labels[0]?.attrs.id, own.pathname.split('/')[2]);
    assert.equal(
      labels[0]?.getChildText('hash', 'urn:xmpp:hashes:2'),
      createHash('sha256').update(pdfFile()).digest('base64'),
    );
  });
});
