import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient, stanzaErrorOf, type XmlElement, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/** XEP-0049 private XML storage over a real socket. */

const PASSWORD = 'private tests 1';
const NS = 'jabber:iq:private';
let server: RampartProcess;
const clients: RawClient[] = [];

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

function query(type: 'get' | 'set', child: XmlElement, to?: string): XmlElement {
  return x('iq', { type, to }, x('query', { xmlns: NS }, child));
}

before(async () => {
  server = await startRampart();
  await server.addUser('pia', PASSWORD);
  await server.addUser('quinn', PASSWORD);
});

after(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
});

describe('XEP-0049 private XML storage', () => {
  it('returns the empty element when nothing is stored, then what was stored', async () => {
    const pia = await login('pia');
    const empty = await pia.iq(query('get', x('prefs', { xmlns: 'example:prefs' })));
    assert.equal(empty.attrs.type, 'result', empty.toString());
    const got = empty.getChild('query', NS)!.getChild('prefs', 'example:prefs');
    assert.ok(got, empty.toString());
    assert.equal(got.elements().length, 0);

    const doc = x('prefs', { xmlns: 'example:prefs' }, x('color', { shade: 'dark' }, 'blue'));
    const set = await pia.iq(query('set', doc));
    assert.equal(set.attrs.type, 'result', set.toString());

    // A second session of the same account (and the bare JID as `to`) reads it back.
    const again = await login('pia');
    const r = await again.iq(query('get', x('prefs', { xmlns: 'example:prefs' }), 'pia@localhost'));
    const prefs = r.getChild('query', NS)!.getChild('prefs', 'example:prefs')!;
    assert.equal(prefs.getChild('color')?.text(), 'blue');
    assert.equal(prefs.getChild('color')?.attrs.shade, 'dark');
    // Other namespaces are separate.
    const other = await again.iq(query('get', x('other', { xmlns: 'example:other' })));
    assert.equal(
      other.getChild('query', NS)!.getChild('other', 'example:other')!.children.length,
      0,
    );
  });

  it('is forbidden to read or write another account’s storage', async () => {
    const quinn = await login('quinn');
    for (const type of ['get', 'set'] as const) {
      const r = await quinn.iq(
        query(type, x('prefs', { xmlns: 'example:prefs' }), 'pia@localhost'),
      );
      assert.equal(stanzaErrorOf(r), 'forbidden', r.toString());
    }
  });

  it('refuses reserved namespaces and oversized documents with not-acceptable', async () => {
    const pia = await login('pia');
    for (const ns of ['jabber:client', 'jabber:server', NS]) {
      const r = await pia.iq(query('set', x('data', { xmlns: ns })));
      assert.equal(stanzaErrorOf(r), 'not-acceptable', `${ns}: ${r.toString()}`);
    }
    const big = x('big', { xmlns: 'example:big' }, 'a'.repeat(65 * 1024));
    const r = await pia.iq(query('set', big));
    assert.equal(stanzaErrorOf(r), 'not-acceptable', r.toString());
  });

  it('wants exactly one child element', async () => {
    const pia = await login('pia');
    const r = await pia.iq(x('iq', { type: 'get' }, x('query', { xmlns: NS })));
    assert.equal(stanzaErrorOf(r), 'bad-request', r.toString());
  });
});
