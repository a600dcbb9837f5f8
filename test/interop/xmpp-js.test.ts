import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { type RampartProcess, startRampart, withServerLog } from '../helpers/server.ts';
import {
  bareOf,
  connectXmppJs,
  errorCondition,
  type XmlElement,
  type XmppJsClient,
  type XmppJsOptions,
  xml,
} from '../helpers/xmpp-client.ts';

// @xmpp/client (xmpp.js 0.14), a client no one here wrote, against the real `rampart`
// command. xmpp.js knows SCRAM-SHA-1 but neither SCRAM-SHA-256 nor any -PLUS mechanism, so
// it always picks SCRAM-SHA-1 (with gs2 flag `n`) from Rampart's offer.

const PASSWORD = 'interop-secret-2';
const NS_ROSTER = 'jabber:iq:roster';
const NS_LAST = 'jabber:iq:last';
const NS_DELAY = 'urn:xmpp:delay';

const isPresence = (from: string, type?: string) => (el: XmlElement) =>
  el.name === 'presence' &&
  (from.includes('/') ? el.attrs.from === from : bareOf(el.attrs.from) === from) &&
  el.attrs.type === type;

const rosterPush = (contact: string, subscription: string) => (el: XmlElement) =>
  el.name === 'iq' &&
  el.attrs.type === 'set' &&
  el.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.jid === contact &&
  el.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.subscription === subscription;

const chat = (from: string, body: string) => (el: XmlElement) =>
  el.name === 'message' && el.attrs.from === from && el.getChildText('body') === body;

describe('@xmpp/client against rampart', () => {
  let server: RampartProcess;
  let n = 0;
  let open: XmppJsClient[] = [];

  const user = async (prefix: string) => {
    n += 1;
    const name = `${prefix}${n}`;
    await server.addUser(name, PASSWORD);
    return name;
  };
  const connect = async (username: string, extra: Partial<XmppJsOptions> = {}) => {
    const c = await connectXmppJs({
      port: extra.directTls ? server.ports.c2sTls : server.ports.c2s,
      username,
      password: PASSWORD,
      ...extra,
    });
    open.push(c);
    return c;
  };
  /**
   * Does what a client does at login: fetches the roster, which makes the resource
   * "interested" in roster pushes (RFC 6121 §2.1.6), then sends initial presence (§4.2).
   */
  const goOnline = async (c: XmppJsClient, status?: string) => {
    const roster = await c.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })));
    assert.equal(roster.attrs.type, 'result', roster.toString());
    await c.send(xml('presence', null, ...(status ? [xml('status', null, status)] : [])));
  };

  before(async () => {
    server = await startRampart();
  });
  afterEach(async () => {
    await Promise.all(open.map((c) => c.stop()));
    open = [];
  });
  after(async () => {
    await server?.stop();
  });

  test('logs in over STARTTLS with SCRAM-SHA-1 and gets a server-generated resource', async () => {
    await withServerLog(server, async () => {
      const name = await user('js-starttls');
      const c = await connect(name);
      assert.equal(c.mechanism, 'SCRAM-SHA-1');
      assert.match(String(c.tlsProtocol), /^TLSv1\.[23]$/);
      assert.ok(
        c.jid.startsWith(`${name}@localhost/`) && c.jid.length > `${name}@localhost/`.length,
      );
      const roster = await c.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })));
      assert.equal(roster.attrs.type, 'result', roster.toString());
      const ping = await c.iq(
        xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
      );
      assert.equal(ping.attrs.type, 'result', ping.toString());
    });
  });

  test('logs in over direct TLS and keeps the requested resource', async () => {
    await withServerLog(server, async () => {
      const name = await user('js-direct');
      const c = await connect(name, { directTls: true, resource: 'laptop' });
      assert.equal(c.jid, `${name}@localhost/laptop`);
      assert.equal(c.mechanism, 'SCRAM-SHA-1');
      assert.match(String(c.tlsProtocol), /^TLSv1\.[23]$/);
    });
  });

  test('subscribes with approval; presence and chat both ways', async () => {
    await withServerLog(server, async () => {
      const [aName, bName] = [await user('js-alice'), await user('js-bob')];
      const a = await connect(aName, { resource: 'home' });
      const b = await connect(bName, { directTls: true, resource: 'work' });
      await goOnline(b, 'bob here');
      await goOnline(a, 'alice here');

      // Alice asks, Bob approves (RFC 6121 §3.1).
      await a.send(xml('presence', { to: b.bare, type: 'subscribe' }));
      await b.waitFor(isPresence(a.bare, 'subscribe'), 'subscribe from alice');
      await b.send(xml('presence', { to: a.bare, type: 'subscribed' }));
      await a.waitFor(isPresence(b.bare, 'subscribed'), 'subscribed from bob');
      await a.waitFor(rosterPush(b.bare, 'to'), 'roster push: bob, subscription to');
      const bobsPresence = await a.waitFor(isPresence(b.jid), "bob's available presence");
      assert.equal(bobsPresence.getChildText('status'), 'bob here');

      // Bob asks back, Alice approves: now both.
      await b.send(xml('presence', { to: a.bare, type: 'subscribe' }));
      await a.waitFor(isPresence(b.bare, 'subscribe'), 'subscribe from bob');
      await a.send(xml('presence', { to: b.bare, type: 'subscribed' }));
      await a.waitFor(rosterPush(b.bare, 'both'), 'roster push: bob, subscription both');
      await b.waitFor(rosterPush(a.bare, 'both'), 'roster push: alice, subscription both');
      const alicesPresence = await b.waitFor(isPresence(a.jid), "alice's available presence");
      assert.equal(alicesPresence.getChildText('status'), 'alice here');

      // Chat both ways; the server stamps the sender's full JID (RFC 6120 §8.1.2.1).
      await a.send(xml('message', { to: b.bare, type: 'chat' }, xml('body', null, 'hi bob')));
      await b.waitFor(chat(a.jid, 'hi bob'), 'message from alice');
      await b.send(xml('message', { to: a.jid, type: 'chat' }, xml('body', null, 'hi alice')));
      await a.waitFor(chat(b.jid, 'hi alice'), 'reply from bob');

      const roster = await a.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })));
      const item = roster.getChild('query', NS_ROSTER)?.getChild('item');
      assert.equal(item?.attrs.jid, b.bare);
      assert.equal(item?.attrs.subscription, 'both');
    });
  });

  test('logs in over WebSocket (RFC 7395) and chats both ways with a TCP client', async () => {
    await withServerLog(server, async () => {
      const [wName, tName] = [await user('js-web'), await user('js-tcp')];
      await server.addContacts(wName, tName);
      const web = await connect(wName, {
        websocket: true,
        port: server.ports.https,
        resource: 'tab',
      });
      assert.equal(web.jid, `${wName}@localhost/tab`);
      assert.equal(web.mechanism, 'SCRAM-SHA-1');
      const tcp = await connect(tName, { resource: 'desk' });
      await goOnline(tcp, 'at my desk');
      await goOnline(web);
      const seen = await web.waitFor(isPresence(tcp.jid), "the TCP contact's presence");
      assert.equal(seen.getChildText('status'), 'at my desk');
      await tcp.waitFor(isPresence(web.jid), "the web contact's presence");

      await web.send(
        xml('message', { to: tcp.bare, type: 'chat' }, xml('body', null, 'from the browser')),
      );
      await tcp.waitFor(chat(web.jid, 'from the browser'), 'message over WebSocket');
      await tcp.send(
        xml('message', { to: web.jid, type: 'chat' }, xml('body', null, 'from the desk')),
      );
      await web.waitFor(chat(tcp.jid, 'from the desk'), 'message to the WebSocket');
      const pong = await web.iq(
        xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
      );
      assert.equal(pong.attrs.type, 'result', pong.toString());
    });
  });

  test('a message to an offline contact arrives at its next available presence, once', async () => {
    await withServerLog(server, async () => {
      const [aName, cName] = [await user('js-sender'), await user('js-sleeper')];
      await server.addContacts(aName, cName);
      const a = await connect(aName);
      await goOnline(a);
      for (const body of ['while you were out 1', 'while you were out 2']) {
        await a.send(
          xml('message', { to: `${cName}@localhost`, type: 'chat' }, xml('body', null, body)),
        );
      }
      // Answered after the messages ahead of it were handled.
      const ping = await a.iq(
        xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
      );
      assert.equal(ping.attrs.type, 'result');
      await a.stop();

      const c = await connect(cName);
      await goOnline(c);
      for (const body of ['while you were out 1', 'while you were out 2']) {
        const msg = await c.waitFor(
          (el) => el.name === 'message' && el.getChildText('body') === body,
          `offline message "${body}"`,
        );
        assert.equal(bareOf(msg.attrs.from), a.bare);
        assert.ok(msg.getChild('delay', NS_DELAY), `XEP-0203 <delay/> on ${msg.toString()}`);
      }
      await c.stop();

      const again = await connect(cName);
      await goOnline(again);
      await again.expectNone(
        (el) => el.name === 'message' && /while you were out/.test(el.getChildText('body') ?? ''),
        'offline messages a second time',
        1500,
      );
    });
  });

  test('without approval, presence and last activity stay hidden (T7)', async () => {
    await withServerLog(server, async () => {
      const [aName, bName, cName] = [
        await user('js-friend'),
        await user('js-target'),
        await user('js-stranger'),
      ];
      await server.addContacts(aName, bName);
      const b = await connect(bName, { resource: 'desk' });
      await goOnline(b, 'target-status-1');
      const a = await connect(aName);
      await goOnline(a);
      const c = await connect(cName);
      await goOnline(c);

      // Control: the approved contact sees presence and last activity.
      await a.waitFor(isPresence(b.jid), "friend sees target's presence");
      const friendLast = await a.iq(
        xml('iq', { type: 'get', to: b.bare }, xml('query', { xmlns: NS_LAST })),
      );
      assert.equal(friendLast.attrs.type, 'result', friendLast.toString());

      // The stranger asks (the target never answers), probes and queries.
      await c.send(xml('presence', { to: b.bare, type: 'subscribe' }));
      await b.waitFor(isPresence(c.bare, 'subscribe'), 'subscription request from the stranger');
      await c.send(xml('presence', { to: b.bare, type: 'probe' }));
      const hidden = ['forbidden', 'service-unavailable', 'subscription-required'];
      const lastOnline = await c.iq(
        xml('iq', { type: 'get', to: b.bare }, xml('query', { xmlns: NS_LAST })),
      );
      assert.equal(
        lastOnline.attrs.type,
        'error',
        `stranger's XEP-0012 query: ${lastOnline.toString()}`,
      );
      assert.ok(hidden.includes(String(errorCondition(lastOnline))), lastOnline.toString());
      const items = await c.iq(
        xml(
          'iq',
          { type: 'get', to: b.bare },
          xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }),
        ),
      );
      assert.ok(
        !items.toString().includes(b.jid),
        `disco#items leaks a resource: ${items.toString()}`,
      );

      // A new status reaches the friend, not the stranger; then the target logs out.
      await b.send(xml('presence', null, xml('status', null, 'target-status-2')));
      await a.waitFor(
        (el) => isPresence(b.jid)(el) && el.getChildText('status') === 'target-status-2',
        "friend sees target's new status",
      );
      await b.stop();
      await a.waitFor(isPresence(b.jid, 'unavailable'), 'friend sees target go offline');

      const lastOffline = await c.iq(
        xml('iq', { type: 'get', to: b.bare }, xml('query', { xmlns: NS_LAST })),
      );
      assert.equal(
        lastOffline.attrs.type,
        'error',
        `stranger's XEP-0012 after logout: ${lastOffline.toString()}`,
      );
      assert.ok(hidden.includes(String(errorCondition(lastOffline))), lastOffline.toString());
      const friendLastOffline = await a.iq(
        xml('iq', { type: 'get', to: b.bare }, xml('query', { xmlns: NS_LAST })),
      );
      assert.equal(friendLastOffline.attrs.type, 'result', friendLastOffline.toString());
      assert.match(
        String(friendLastOffline.getChild('query', NS_LAST)?.attrs.seconds),
        /^\d+$/,
        `last activity of an offline contact has seconds: ${friendLastOffline.toString()}`,
      );

      await c.expectNone(
        (el) =>
          el.name === 'presence' &&
          bareOf(el.attrs.from) === b.bare &&
          !['unsubscribed', 'error'].includes(String(el.attrs.type)),
        "the target's presence",
        300,
      );
      await c.expectNone((el) => el.toString().includes('target-status'), "the target's status", 0);
    });
  });
});
