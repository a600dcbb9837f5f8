import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientStateGate, MAX_HELD } from '../../src/session/client-state.ts';
import { type XmlElement, x } from '../../src/xml/element.ts';

/** The XEP-0352 gate on its own: which stanzas wait, which go at once, what is kept. */

function gate() {
  const out: string[] = [];
  const g = new ClientStateGate((el) => out.push(label(el)));
  g.setInactive(true);
  return { g, out };
}

function label(el: XmlElement): string {
  return el.attrs.id ?? el.name;
}

const presence = (id: string, from: string, type?: string) => x('presence', { id, from, type });
const msg = (id: string, ...children: XmlElement[]) =>
  x('message', { id, from: 'a@x/r', type: 'chat' }, ...children);
const pepEvent = x('event', { xmlns: 'http://jabber.org/protocol/pubsub#event' });
const composing = x('composing', { xmlns: 'http://jabber.org/protocol/chatstates' });
const carbon = (...inner: XmlElement[]) =>
  x(
    'received',
    { xmlns: 'urn:xmpp:carbons:2' },
    x(
      'forwarded',
      { xmlns: 'urn:xmpp:forward:0' },
      x('message', { xmlns: 'jabber:client' }, ...inner),
    ),
  );

describe('ClientStateGate', () => {
  it('holds PEP events, chat states and presence; a body sends everything in order', () => {
    const { g, out } = gate();
    g.send(msg('pep', pepEvent));
    g.send(presence('p1', 'b@x/1'));
    g.send(msg('typing', composing));
    g.send(msg('typing-copy', carbon(composing)));
    g.send(presence('p2', 'b@x/1', 'unavailable'));
    assert.deepEqual(out, []);
    g.send(msg('hello', x('body', {}, 'hi')));
    assert.deepEqual(out, ['pep', 'typing', 'typing-copy', 'p2', 'hello']);
  });

  it('sends IQs, subscription requests, receipts and carbon copies of bodies at once', () => {
    const { g, out } = gate();
    g.send(presence('p', 'b@x/1'));
    g.send(x('iq', { id: 'iq', type: 'get' }));
    g.send(presence('sub', 'c@x', 'subscribe'));
    g.send(msg('receipt', x('received', { xmlns: 'urn:xmpp:receipts', id: '1' })));
    g.send(msg('copy', carbon(x('body', {}, 'from my phone'))));
    assert.deepEqual(out, ['p', 'iq', 'sub', 'receipt', 'copy']);
  });

  it('flushes when the client becomes active or too much waits; drops what a closed session held', () => {
    const { g, out } = gate();
    g.send(presence('p', 'b@x/1'));
    g.setInactive(false);
    assert.deepEqual(out, ['p']);
    g.setInactive(true);
    for (let i = 0; i <= MAX_HELD; i++) g.send(msg(`s${i}`, composing));
    assert.equal(out.length, 1 + MAX_HELD + 1);

    let undelivered = 0;
    const held = new ClientStateGate(() => assert.fail('nothing is written'));
    held.setInactive(true);
    held.send(msg('late', composing), {
      delivered: () => assert.fail(),
      undelivered: () => undelivered++,
    });
    held.drop();
    assert.equal(undelivered, 1);
  });
});
