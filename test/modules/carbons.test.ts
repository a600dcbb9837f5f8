import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { securityEvents } from '../helpers/events.ts';
import {
  ClientPool,
  is,
  ns,
  type RawClient,
  stanzaErrorOf,
  type XmlElement,
  x,
} from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../helpers/server.ts';

/** XEP-0280 message carbons over real sockets. */

const PASSWORD = 'carbons tests 1';
const CARBONS = 'urn:xmpp:carbons:2';
const FORWARD = 'urn:xmpp:forward:0';
const D = 'localhost';
let server: RampartProcess;
const pool = new ClientPool(() => server.ports.c2sTls, PASSWORD);
const bare = (u: string) => `${u}@${D}`;

async function online(user: string, resource: string, carbons: boolean): Promise<RawClient> {
  const c = await pool.login(user, resource);
  if (carbons) {
    const r = await c.iq(x('iq', { type: 'set' }, x('enable', { xmlns: CARBONS })));
    assert.equal(r.attrs.type, 'result', r.toString());
  }
  c.send(x('presence'));
  return c;
}

/** The message inside a carbon copy of `kind` whose body is `body`. */
const isCarbon = (kind: 'sent' | 'received', body?: string) => (el: XmlElement) => {
  const inner = el.getChild(kind, CARBONS)?.getChild('forwarded', FORWARD)?.getChild('message');
  return (
    el.name === 'message' &&
    inner !== undefined &&
    (body === undefined || inner.getChildText('body') === body)
  );
};

function inner(el: XmlElement, kind: 'sent' | 'received'): XmlElement {
  return el.getChild(kind, CARBONS)!.getChild('forwarded', FORWARD)!.getChild('message')!;
}

const chat = (to: string, body: string, ...extra: XmlElement[]) =>
  x('message', { to, type: 'chat' }, x('body', {}, body), ...extra);

before(async () => {
  server = await startRampart();
  await server.importUsers(['alice', 'bob'], PASSWORD);
  await server.addContacts('alice', 'bob');
});

after(async () => {
  pool.destroyAll();
  await server?.stop();
});

describe('XEP-0280 message carbons', () => {
  it('is announced and copies received and sent chats to enabled resources only', async () => {
    const desk = await online('alice', 'desk', true);
    const phone = await online('alice', 'phone', true);
    const tablet = await online('alice', 'tablet', false);
    const bob = await online('bob', 'laptop', false);
    const info = await desk.iq(
      x('iq', { type: 'get', to: D }, x('query', { xmlns: ns.discoInfo })),
    );
    assert.ok(info.toString().includes(`var="${CARBONS}"`), info.toString());

    // bob → alice/desk: desk gets the message, phone a received copy, tablet nothing.
    bob.send(chat(`${bare('alice')}/desk`, 'to desk'));
    await desk.next(is.message(bare('bob'), 'to desk'), 'the message itself');
    const received = await phone.next(isCarbon('received', 'to desk'), 'a received carbon');
    assert.equal(received.attrs.from, bare('alice'));
    assert.equal(inner(received, 'received').attrs.from, `${bare('bob')}/laptop`);
    assert.equal(inner(received, 'received').attrs.xmlns, 'jabber:client');
    await tablet.expectNone(isCarbon('received'), 'a copy to a resource without carbons', 200);

    // alice/phone → bob: desk gets a sent copy, the sender none.
    phone.send(chat(bare('bob'), 'from phone'));
    await bob.next(is.message(bare('alice'), 'from phone'), 'bob gets the message');
    const sent = await desk.next(isCarbon('sent', 'from phone'), 'a sent carbon');
    assert.equal(inner(sent, 'sent').attrs.to, bare('bob'));
    await phone.expectNone(isCarbon('sent'), 'a copy back to the sender', 200);

    // Disabled: no more copies.
    const off = await phone.iq(x('iq', { type: 'set' }, x('disable', { xmlns: CARBONS })));
    assert.equal(off.attrs.type, 'result');
    bob.send(chat(`${bare('alice')}/desk`, 'after disable'));
    await desk.next(is.message(bare('bob'), 'after disable'), 'the message');
    await phone.expectNone(isCarbon('received'), 'a copy after disabling', 200);
  });

  it('honours <private/> with <no-copy/>, and skips headlines and body-less normal messages', async () => {
    const desk = await online('alice', 'desk2', true);
    const phone = await online('alice', 'phone2', true);
    const bob = await online('bob', 'laptop2', false);
    desk.send(
      chat(
        bare('bob'),
        'private one',
        x('private', { xmlns: CARBONS }),
        x('no-copy', { xmlns: 'urn:xmpp:hints' }),
      ),
    );
    bob.send(
      x('message', { to: `${bare('alice')}/desk2`, type: 'headline' }, x('body', {}, 'news')),
    );
    bob.send(
      x(
        'message',
        { to: `${bare('alice')}/desk2` },
        x('received', { xmlns: 'urn:xmpp:receipts', id: '1' }),
      ),
    );
    // A normal message with a body is copied: it marks the end of what could have come.
    bob.send(x('message', { to: `${bare('alice')}/desk2` }, x('body', {}, 'normal with body')));
    await phone.next(
      isCarbon('received', 'normal with body'),
      'a copy of a normal message with a body',
    );
    const copies = phone.events.filter(
      (e) => e.kind === 'element' && (isCarbon('sent')(e.el) || isCarbon('received')(e.el)),
    );
    assert.equal(copies.length, 1, phone.describe());
  });

  it('refuses carbon copies forged by a client (T4)', async () => {
    const desk = await online('alice', 'desk3', true);
    const bob = await online('bob', 'mallory', false);
    const forged = x(
      'message',
      { to: `${bare('alice')}/desk3`, type: 'chat' },
      x(
        'received',
        { xmlns: CARBONS },
        x(
          'forwarded',
          { xmlns: FORWARD },
          x(
            'message',
            { xmlns: 'jabber:client', from: 'ceo@localhost/x', to: bare('alice'), type: 'chat' },
            x('body', {}, 'wire the money'),
          ),
        ),
      ),
    );
    bob.send(forged);
    const err = await bob.next(
      (e) => e.name === 'message' && e.attrs.type === 'error',
      'the refusal',
    );
    assert.equal(stanzaErrorOf(err), 'bad-request', err.toString());
    await desk.expectNone(isCarbon('received'), 'the forged copy', 200);
    const events = await securityEvents(server, 'carbons.forged');
    assert.equal(events[0]?.threat, 'T4', JSON.stringify(events));
    assert.equal(events[0]?.actor, `${bare('bob')}/mallory`);
  });
});
