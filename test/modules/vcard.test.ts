import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient, stanzaErrorOf, type XmlElement, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/** XEP-0054 vcard-temp over real sockets, with the default (private) and the public policy. */

const PASSWORD = 'vcard tests 1';
const NS = 'vcard-temp';
const clients: RawClient[] = [];

async function login(server: RampartProcess, username: string): Promise<RawClient> {
  const c = await RawClient.login({
    port: server.ports.c2sTls,
    directTls: true,
    username,
    password: PASSWORD,
  });
  clients.push(c);
  return c;
}

const get = (to?: string): XmlElement => x('iq', { type: 'get', to }, x('vCard', { xmlns: NS }));

after(() => {
  for (const c of clients) c.destroy();
});

describe('XEP-0054 vcard-temp (default policy)', () => {
  let server: RampartProcess;
  before(async () => {
    server = await startRampart();
    for (const u of ['vera', 'walt', 'xavi', 'yuri']) await server.addUser(u, PASSWORD);
    await server.addContacts('vera', 'walt');
  });
  after(() => server?.stop());

  it('the owner sets and reads its vCard; an approved contact reads it too', async () => {
    const vera = await login(server, 'vera');
    const card = x('vCard', { xmlns: NS }, x('FN', {}, 'Vera V.'), x('NICKNAME', {}, 'vv'));
    const set = await vera.iq(x('iq', { type: 'set' }, card));
    assert.equal(set.attrs.type, 'result', set.toString());

    const own = await vera.iq(get());
    assert.equal(own.getChild('vCard', NS)?.getChildText('FN'), 'Vera V.', own.toString());

    const walt = await login(server, 'walt');
    const r = await walt.iq(get('vera@localhost'));
    assert.equal(r.attrs.type, 'result', r.toString());
    assert.equal(r.attrs.from, 'vera@localhost');
    assert.equal(r.getChild('vCard', NS)?.getChildText('NICKNAME'), 'vv');
  });

  it('a stranger gets service-unavailable', async () => {
    const xavi = await login(server, 'xavi');
    const r = await xavi.iq(get('vera@localhost'));
    assert.equal(stanzaErrorOf(r), 'service-unavailable', r.toString());
  });

  it('nobody sets another account’s vCard', async () => {
    const walt = await login(server, 'walt');
    const r = await walt.iq(
      x('iq', { type: 'set', to: 'vera@localhost' }, x('vCard', { xmlns: NS }, x('FN', {}, 'no'))),
    );
    assert.equal(stanzaErrorOf(r), 'forbidden', r.toString());
    const vera = await login(server, 'vera');
    const own = await vera.iq(get());
    assert.equal(own.getChild('vCard', NS)?.getChildText('FN'), 'Vera V.');
  });

  it('an account without a vCard answers an empty one; oversized vCards are refused', async () => {
    const yuri = await login(server, 'yuri');
    const r = await yuri.iq(get());
    assert.equal(r.attrs.type, 'result', r.toString());
    const card = r.getChild('vCard', NS);
    assert.ok(card, r.toString());
    assert.equal(card.elements().length, 0);

    const big = x('vCard', { xmlns: NS }, x('DESC', {}, 'd'.repeat(65 * 1024)));
    const refused = await yuri.iq(x('iq', { type: 'set' }, big));
    assert.equal(stanzaErrorOf(refused), 'not-acceptable', refused.toString());
  });
});

describe('XEP-0054 vcard-temp with vcard.public = true', () => {
  let server: RampartProcess;
  before(async () => {
    server = await startRampart({ config: '[vcard]\npublic = true\n' });
    for (const u of ['zack', 'abby']) await server.addUser(u, PASSWORD);
  });
  after(() => server?.stop());

  it('a stranger reads the vCard (and an empty one for an account without)', async () => {
    const zack = await login(server, 'zack');
    await zack.iq(x('iq', { type: 'set' }, x('vCard', { xmlns: NS }, x('FN', {}, 'Zack'))));
    const abby = await login(server, 'abby');
    const r = await abby.iq(get('zack@localhost'));
    assert.equal(r.getChild('vCard', NS)?.getChildText('FN'), 'Zack', r.toString());
    const empty = await zack.iq(get('abby@localhost'));
    assert.equal(empty.attrs.type, 'result', empty.toString());
    assert.equal(empty.getChild('vCard', NS)?.elements().length, 0);
  });
});
