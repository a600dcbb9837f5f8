import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ClientPool,
  type RawClient,
  stanzaErrorOf,
  type XmlElement,
  x,
} from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/**
 * T3/T6 over real sessions: peer-to-peer file transfer offers are refused with an error that
 * points to HTTP upload; where policy allows them, the candidates that carry a user's own IP
 * address never reach the other side.
 */

const PASSWORD = 'p2p tests 1';
const FT = 'urn:xmpp:jingle:apps:file-transfer:5';
const ICE = 'urn:xmpp:jingle:transports:ice-udp:1';
const S5B = 'urn:xmpp:jingle:transports:s5b:1';

function jingle(to: string, description: XmlElement, transport: XmlElement): XmlElement {
  return x(
    'iq',
    { type: 'set', to, id: `j${Math.random().toString(36).slice(2)}` },
    x(
      'jingle',
      { xmlns: 'urn:xmpp:jingle:1', action: 'session-initiate', sid: 's1', initiator: 'x' },
      x('content', { creator: 'initiator', name: 'c' }, description, transport),
    ),
  );
}

const fileOffer = () =>
  x('description', { xmlns: FT }, x('file', {}, x('name', {}, 'plans.pdf'), x('size', {}, '1000')));
const s5bTransport = () =>
  x(
    'transport',
    { xmlns: S5B, sid: 't1' },
    x('candidate', {
      cid: 'a',
      host: '192.168.1.20',
      port: '5086',
      jid: 'x',
      type: 'direct',
      priority: '1',
    }),
    x('candidate', {
      cid: 'b',
      host: '203.0.113.9',
      port: '7777',
      jid: 'proxy.example',
      type: 'proxy',
      priority: '1',
    }),
  );
const iceTransport = () =>
  x(
    'transport',
    { xmlns: ICE, ufrag: 'u', pwd: 'p' },
    x('candidate', {
      id: '1',
      ip: '192.168.1.20',
      port: '5000',
      type: 'host',
      component: '1',
      foundation: '1',
      generation: '0',
      network: '0',
      priority: '1',
      protocol: 'udp',
    }),
    x('candidate', {
      id: '2',
      ip: '198.51.100.4',
      port: '5000',
      type: 'srflx',
      component: '1',
      foundation: '2',
      generation: '0',
      network: '0',
      priority: '1',
      protocol: 'udp',
    }),
    x('candidate', {
      id: '3',
      ip: '203.0.113.50',
      port: '3478',
      type: 'relay',
      component: '1',
      foundation: '3',
      generation: '0',
      network: '0',
      priority: '1',
      protocol: 'udp',
    }),
  );

async function pair(pool: ClientPool): Promise<[RawClient, RawClient]> {
  const ann = await pool.login('ann');
  const ben = await pool.login('ben');
  ann.send(x('presence'));
  ben.send(x('presence'));
  return [ann, ben];
}

async function expectRefused(client: RawClient, stanza: XmlElement): Promise<void> {
  const reply = await client.iq(stanza);
  assert.equal(stanzaErrorOf(reply), 'policy-violation', reply.toString());
  assert.match(reply.getChild('error')?.getChildText('text') ?? '', /HTTP upload/);
}

describe('peer-to-peer file transfer, default policy (refused)', () => {
  const pool = new ClientPool(() => server.ports.c2sTls, PASSWORD);
  let server: RampartProcess;
  let ann: RawClient;
  let ben: RawClient;
  before(async () => {
    server = await startRampart();
    for (const u of ['ann', 'ben']) await server.addUser(u, PASSWORD);
    await server.addContacts('ann', 'ben');
    [ann, ben] = await pair(pool);
  });
  after(async () => {
    pool.destroyAll();
    await server?.stop();
  });

  it('refuses Jingle file transfer, SI, SOCKS5 and in-band bytestreams, and iq:oob', async () => {
    const to = ben.jid!;
    await expectRefused(ann, jingle(to, fileOffer(), s5bTransport()));
    await expectRefused(
      ann,
      x(
        'iq',
        { type: 'set', to },
        x('si', {
          xmlns: 'http://jabber.org/protocol/si',
          id: 's',
          profile: 'http://jabber.org/protocol/si/profile/file-transfer',
        }),
      ),
    );
    await expectRefused(
      ann,
      x(
        'iq',
        { type: 'set', to },
        x(
          'query',
          { xmlns: 'http://jabber.org/protocol/bytestreams', sid: 's' },
          x('streamhost', { jid: ann.jid, host: '192.168.1.20', port: '5086' }),
        ),
      ),
    );
    await expectRefused(
      ann,
      x(
        'iq',
        { type: 'set', to },
        x('open', { xmlns: 'http://jabber.org/protocol/ibb', sid: 's', 'block-size': '4096' }),
      ),
    );
    await expectRefused(
      ann,
      x(
        'iq',
        { type: 'set', to },
        x('query', { xmlns: 'jabber:iq:oob' }, x('url', {}, 'http://192.168.1.20:8180/a.exe')),
      ),
    );
    await ben.expectNone((el) => el.name === 'iq' && el.attrs.type === 'set', 'a transfer offer');
  });

  it('refuses messages with in-band data or an out-of-band link to a direct address', async () => {
    ann.send(
      x(
        'message',
        { to: 'ben@localhost', id: 'm1' },
        x('data', { xmlns: 'http://jabber.org/protocol/ibb', sid: 's', seq: '0' }, 'AAAA'),
      ),
    );
    const e1 = await ann.next((el) => el.name === 'message' && el.attrs.id === 'm1', 'ibb bounce');
    assert.equal(stanzaErrorOf(e1), 'policy-violation', e1.toString());
    ann.send(
      x(
        'message',
        { to: 'ben@localhost', id: 'm2', type: 'chat' },
        x('body', {}, 'here'),
        x('x', { xmlns: 'jabber:x:oob' }, x('url', {}, 'http://192.168.1.20:8180/a.exe')),
      ),
    );
    const e2 = await ann.next((el) => el.name === 'message' && el.attrs.id === 'm2', 'oob bounce');
    assert.equal(stanzaErrorOf(e2), 'policy-violation', e2.toString());
    await ben.expectNone(
      (el) => el.name === 'message' && (el.attrs.id === 'm1' || el.attrs.id === 'm2'),
      'the refused messages',
    );
  });

  it('lets an upload link through, and strips host and reflexive ICE candidates from calls', async () => {
    const url = `https://localhost:${server.ports.https}/upload/${'A'.repeat(32)}/plans.pdf`;
    ann.send(
      x(
        'message',
        { to: 'ben@localhost', id: 'm3', type: 'chat' },
        x('body', {}, url),
        x('x', { xmlns: 'jabber:x:oob' }, x('url', {}, url)),
      ),
    );
    await ben.next((el) => el.name === 'message' && el.attrs.id === 'm3', 'the upload link');

    const call = jingle(
      ben.jid!,
      x('description', { xmlns: 'urn:xmpp:jingle:apps:rtp:1', media: 'audio' }),
      iceTransport(),
    );
    ann.send(call);
    const got = await ben.next(
      (el) => el.name === 'iq' && el.attrs.id === call.attrs.id,
      'the call offer',
    );
    const types = got
      .getChild('jingle')
      ?.getChild('content')
      ?.getChild('transport')
      ?.getChildren('candidate')
      .map((c) => c.attrs.type);
    assert.deepEqual(types, ['relay']);
    assert.equal(got.toString().includes('192.168.1.20'), false);
  });
});

describe('peer-to-peer file transfer allowed between contacts', () => {
  const pool = new ClientPool(() => server.ports.c2sTls, PASSWORD);
  let server: RampartProcess;
  before(async () => {
    server = await startRampart({ config: '[p2p]\nfile_transfer = "contacts"\n' });
    for (const u of ['ann', 'ben', 'cat']) await server.addUser(u, PASSWORD);
    await server.addContacts('ann', 'ben');
  });
  after(async () => {
    pool.destroyAll();
    await server?.stop();
  });

  it('a contact’s offer arrives without direct candidates; a stranger’s is refused', async () => {
    const [ann, ben] = await pair(pool);
    const offer = jingle(ben.jid!, fileOffer(), s5bTransport());
    ann.send(offer);
    const got = await ben.next(
      (el) => el.name === 'iq' && el.attrs.id === offer.attrs.id,
      'the offer',
    );
    const candidates =
      got
        .getChild('jingle')
        ?.getChild('content')
        ?.getChild('transport')
        ?.getChildren('candidate') ?? [];
    assert.deepEqual(
      candidates.map((c) => c.attrs.type),
      ['proxy'],
    );
    const cat = await pool.login('cat');
    const r = await cat.iq(jingle(ben.jid!, fileOffer(), s5bTransport()));
    assert.equal(stanzaErrorOf(r), 'service-unavailable', r.toString());
  });
});
