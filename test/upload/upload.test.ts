import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RawClient, stanzaErrorOf, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';
import {
  httpRequest,
  NS_UPLOAD,
  pngFile,
  putFile,
  requestSlot,
  slotRequest,
  uploadFile,
} from '../helpers/upload.ts';

/** XEP-0363 over a real session and real HTTPS: disco, slots, PUT, GET, limits, at rest. */

const PASSWORD = 'upload tests 1';
const clients: RawClient[] = [];
let server: RampartProcess;

async function login(username: string): Promise<RawClient> {
  const c = await RawClient.login({
    port: server.ports.c2sTls,
    directTls: true,
    username,
    password: PASSWORD,
  });
  clients.push(c);
  return c;
}

before(async () => {
  server = await startRampart({
    config: '[upload]\nmax_file_size = 80000000\nquota_bytes = 100000000\n',
  });
  for (const u of ['ada', 'bea', 'cyd']) await server.addUser(u, PASSWORD);
});
after(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
});

describe('XEP-0363 HTTP File Upload', () => {
  it('is announced on the domain: store/file identity, feature and max-file-size form', async () => {
    const ada = await login('ada');
    const info = await ada.iq(
      x(
        'iq',
        { type: 'get', to: 'localhost' },
        x('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
      ),
    );
    const q = info.getChild('query')!;
    assert.ok(
      q
        .getChildren('identity')
        .some((i) => i.attrs.category === 'store' && i.attrs.type === 'file'),
      info.toString(),
    );
    assert.ok(q.getChildren('feature').some((f) => f.attrs.var === NS_UPLOAD));
    const form = q.getChild('x', 'jabber:x:data');
    const fields = form?.getChildren('field') ?? [];
    assert.equal(fields.find((f) => f.attrs.var === 'FORM_TYPE')?.getChildText('value'), NS_UPLOAD);
    assert.equal(
      fields.find((f) => f.attrs.var === 'max-file-size')?.getChildText('value'),
      '80000000',
    );
  });

  it('uploads a file into a slot and serves it back unchanged', async () => {
    const ada = await login('ada');
    const png = pngFile();
    const { slot, put, get } = await uploadFile(ada, 'très cool.png', png, 'image/png');
    assert.match(slot.put, /^https:\/\/localhost:\d+\/upload\/[\w-]{32}\/tr%C3%A8s%20cool\.png$/);
    assert.match(slot.headers.Authorization ?? '', /^Bearer /);
    assert.equal(put.status, 201, put.body.toString());
    assert.equal(get.status, 200, get.body.toString());
    assert.deepEqual(get.body, png);
    assert.equal(get.headers['content-type'], 'image/png');
    assert.match(String(get.headers['content-security-policy']), /sandbox/);
  });

  it('keeps files encrypted at rest', async () => {
    const ada = await login('ada');
    const body = Buffer.from(`plain words that must not be on disk ${'z'.repeat(5000)}`);
    const { put } = await uploadFile(ada, 'notes.txt', body, 'text/plain');
    assert.equal(put.status, 201);
    const dir = join(server.dataDir, 'uploads');
    const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
    assert.ok(files.length > 0);
    for (const f of files) assert.equal(f.includes(Buffer.from('plain words')), false);
  });

  it('a slot is single use and only for its token', async () => {
    const bea = await login('bea');
    const body = randomBytes(1000);
    const slot = await requestSlot(bea, 'a.bin', body.length);
    const noToken = await httpRequest('PUT', slot.put, { body });
    assert.equal(noToken.status, 403);
    const forged = await putFile({ ...slot, headers: { Authorization: 'Bearer AAAA' } }, body);
    assert.equal(forged.status, 403);
    assert.equal((await putFile(slot, body)).status, 201);
    const again = await putFile(slot, body);
    assert.equal(again.status, 409, again.body.toString());
  });

  it('the body must match the size of the slot', async () => {
    const bea = await login('bea');
    const slot = await requestSlot(bea, 'b.bin', 100);
    const r = await putFile(slot, randomBytes(101));
    assert.equal(r.status, 413);
    const get = await httpRequest('GET', slot.get);
    assert.equal(get.status, 404);
  });

  it('refuses a file over the limit with file-too-large, and past the quota', async () => {
    const cyd = await login('cyd');
    const big = await cyd.iq(slotRequest('big.iso', 80_000_001));
    assert.equal(stanzaErrorOf(big), 'not-acceptable', big.toString());
    assert.equal(
      big.getChild('error')?.getChild('file-too-large', NS_UPLOAD)?.getChildText('max-file-size'),
      '80000000',
    );
    await requestSlot(cyd, 'one.bin', 60_000_000);
    const over = await cyd.iq(slotRequest('two.bin', 60_000_000));
    assert.equal(stanzaErrorOf(over), 'resource-constraint', over.toString());
  });

  it('a download URL that does not exist is a 404', async () => {
    const r = await httpRequest(
      'GET',
      `https://localhost:${server.ports.https}/upload/${'A'.repeat(32)}/x.png`,
    );
    assert.equal(r.status, 404);
  });

  it('streams uploads: 64 MiB raise the server’s peak memory by far less than the file', async () => {
    const ada = await login('ada');
    const size = 64 * 1024 * 1024;
    const peak = () => {
      const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) * 1024;
    };
    const before = peak();
    const slot = await requestSlot(ada, 'big.bin', size);
    const chunk = randomBytes(1024 * 1024);
    const { Readable } = await import('node:stream');
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent >= size) this.push(null);
        else {
          sent += chunk.length;
          this.push(chunk);
        }
      },
    });
    const r = await httpRequest('PUT', slot.put, {
      headers: { ...slot.headers, 'content-length': String(size) },
      body,
    });
    assert.equal(r.status, 201, r.body.toString());
    const grew = peak() - before;
    assert.ok(grew < 48 * 1024 * 1024, `peak RSS grew by ${grew} bytes`);
    const head = await httpRequest('HEAD', slot.get);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(size));
  });
});
