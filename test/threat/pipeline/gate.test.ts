import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { openSqliteDriver } from '../../../src/storage/sqlite/driver.ts';
import { is, ns, RawClient, stanzaErrorOf, type XmlElement, x } from '../../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../../helpers/server.ts';

/**
 * The threat engine in the live message path, through real client sessions: labels reach
 * the recipient with the verdict element and a readable body, refusals reach the sender as
 * policy-violation with plain words, strangers' messages wait as contact requests.
 */
const PASSWORD = 'pipeline tests 1';
const D = 'localhost';
const NS_VERDICT = 'urn:rampart:verdict:0';
const NS_REQUESTS = 'urn:rampart:requests:0';
const NS_NOTICE = 'urn:rampart:notice:0';
const NS_DELAY = 'urn:xmpp:delay';
const USERS = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'fred',
  'gus',
  'hal',
  'ian',
  'jo',
  'kim',
  'lee',
];
const bare = (u: string) => `${u}@${D}`;
let server: RampartProcess;
const clients: RawClient[] = [];

async function login(username: string, resource?: string): Promise<RawClient> {
  const c = await RawClient.login({
    port: server.ports.c2sTls,
    directTls: true,
    username,
    password: PASSWORD,
    ...(resource === undefined ? {} : { resource }),
  });
  clients.push(c);
  return c;
}

async function online(username: string): Promise<RawClient> {
  const c = await login(username);
  c.send(x('presence'));
  const r = await c.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: ns.ping })));
  assert.equal(r.attrs.type, 'result');
  return c;
}

function chat(to: string, body: string, id?: string): XmlElement {
  return x('message', { to, type: 'chat', id }, x('body', {}, body));
}

const fromServer = (el: XmlElement) => el.name === 'message' && el.attrs.from === D;

type EventRow = {
  threat: string;
  rule: string;
  actor: string;
  target: string;
  verdict: string;
  evidence: string;
};

function events(rule: string): EventRow[] {
  const db = openSqliteDriver(join(server.dataDir, 'rampart.db'), { readonly: true });
  try {
    return db
      .prepare<[string], EventRow>('SELECT * FROM security_events WHERE rule = ? ORDER BY id')
      .all(rule);
  } finally {
    db.close();
  }
}

before(async () => {
  server = await startRampart({
    config: '[policy.stranger]\nnew_account_hourly_limit = 2\n',
  });
  const r = await server.cli(
    ['user', 'import', '-'],
    USERS.map((u) => `${bare(u)},${PASSWORD}`).join('\n'),
  );
  assert.equal(r.code, 0, r.stderr);
  await server.addContacts('alice', 'bob');
});

after(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
});

describe('verdicts between contacts', () => {
  it('label: a link to a bare public IP arrives with the verdict element and a warning line', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    const text = 'the report is at http://203.0.113.7/q3 if you need it';
    alice.send(chat(bare('bob'), text));
    const got = await bob.next(is.message(bare('alice')), 'the labelled message');
    const verdict = got.getChild('verdict', NS_VERDICT);
    assert.ok(verdict, got.toString());
    assert.equal(verdict.attrs.level, 'warning');
    assert.equal(verdict.attrs.threat, 'T2');
    assert.equal(verdict.attrs.rule, 'url');
    assert.match(verdict.text(), /IP address/);
    const body = got.getChildText('body') ?? '';
    assert.ok(body.endsWith(text), body);
    const fallback = got.getChild('fallback', 'urn:xmpp:fallback:0');
    assert.equal(fallback?.attrs.for, NS_VERDICT);
    const end = Number(fallback?.getChild('body')?.attrs.end);
    assert.equal([...body].slice(end).join(''), text, 'the fallback range covers the warning only');
    const ev = events('url').find((e) => e.target === bare('bob'));
    assert.equal(ev?.verdict, 'label');
    assert.equal(ev?.threat, 'T2');
    assert.match(ev?.actor ?? '', /^alice@localhost\//);
    assert.doesNotMatch(ev?.evidence ?? '', /if you need it/, 'no message text in the event');
  });

  it('refuse: a javascript: link comes back to the sender as policy-violation in plain words', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    alice.send(chat(bare('bob'), 'open javascript:alert(document.cookie)', 'js1'));
    const err = await alice.next((e) => e.attrs.id === 'js1', 'the refusal');
    assert.equal(stanzaErrorOf(err), 'policy-violation', err.toString());
    const text = err.getChild('error')?.getChild('text', ns.stanzaErrors)?.text() ?? '';
    assert.match(text, /not delivered/);
    assert.equal(err.getChild('error')?.getChild('verdict', NS_VERDICT)?.attrs.threat, 'T9');
    await bob.expectNone(is.message(bare('alice')), 'the refused message', 300);
  });

  it('refuse: a zalgo body (content guard) is refused; the next normal message still goes through', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    alice.send(chat(bare('bob'), `h${'\u0301\u0302\u0303'.repeat(20)}i`, 'z1'));
    const err = await alice.next((e) => e.attrs.id === 'z1', 'the refusal');
    assert.equal(stanzaErrorOf(err), 'policy-violation');
    alice.send(chat(bare('bob'), 'lunch at noon?'));
    await bob.next(is.message(bare('alice'), 'lunch at noon?'), 'the next message');
  });

  it('a burst of plain and labelled messages arrives in the order it was sent', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    const texts = Array.from({ length: 20 }, (_, i) =>
      i % 3 === 0 ? `item ${i}: http://203.0.113.${i + 1}/x` : `item ${i}`,
    );
    for (const t of texts) alice.send(chat(bare('bob'), t));
    for (const t of texts) {
      const got = await bob.next(is.message(bare('alice')), t);
      assert.ok(got.getChildText('body')?.endsWith(t), `expected ${t}, got ${got.toString()}`);
    }
  });

  it('strips XHTML-IM and keeps the plain body, with an event', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    alice.send(
      `<message to='${bare('bob')}' type='chat'><body>styled</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><img src='http://tracker.example/p.gif'/>styled</body></html></message>`,
    );
    const got = await bob.next(is.message(bare('alice'), 'styled'), 'the message');
    assert.equal(got.getChild('html'), undefined, got.toString());
    assert.equal(events('markup.stripped')[0]?.threat, 'T9');
  });
});

describe('stranger policy (T1)', () => {
  it('holds a stranger’s messages as a contact request; adding the sender to the roster delivers them in order', async () => {
    const bob = await online('bob');
    const carol = await online('carol');
    // A stranger's typing notification is dropped silently (no body, nothing to hold).
    carol.send(
      x(
        'message',
        { to: bare('bob'), type: 'chat', id: 'typing' },
        x('composing', { xmlns: 'http://jabber.org/protocol/chatstates' }),
      ),
    );
    carol.send(chat(bare('bob'), 'hi bob, carol from sales here'));
    carol.send(chat(bare('bob'), 'second message'));
    const notice = await bob.next(fromServer, 'the server’s notice');
    assert.match(notice.getChildText('body') ?? '', /carol@localhost.*accept/s);
    assert.equal(notice.getChild('notice', NS_NOTICE)?.attrs.jid, bare('carol'));
    const told = await carol.next(fromServer, 'the sender is told once');
    assert.match(told.getChildText('body') ?? '', /waiting/);
    await carol.expectNone(fromServer, 'a second notice to the sender', 200);
    await bob.expectNone(is.message(bare('carol')), 'the held message or typing', 200);
    await carol.expectNone((e) => e.attrs.id === 'typing', 'an error for the chat state', 1);

    const list = await bob.iq(x('iq', { type: 'get' }, x('list', { xmlns: NS_REQUESTS })));
    const req = list.getChild('list', NS_REQUESTS)?.getChildren('request') ?? [];
    assert.deepEqual(
      req.map((r) => [r.attrs.jid, r.attrs.count]),
      [[bare('carol'), '2']],
    );

    const set = await bob.iq(
      x('iq', { type: 'set' }, x('query', { xmlns: ns.roster }, x('item', { jid: bare('carol') }))),
    );
    assert.equal(set.attrs.type, 'result');
    const first = await bob.next(is.message(bare('carol')), 'first held message');
    const second = await bob.next(is.message(bare('carol')), 'second held message');
    assert.equal(first.getChildText('body'), 'hi bob, carol from sales here');
    assert.equal(second.getChildText('body'), 'second message');
    assert.ok(first.getChild('delay', NS_DELAY)?.attrs.stamp);
    assert.equal(events('stranger').filter((e) => e.actor.startsWith(bare('carol'))).length, 2);
    // Now a contact: straight through.
    carol.send(chat(bare('bob'), 'thanks!'));
    await bob.next(is.message(bare('carol'), 'thanks!'), 'a message after acceptance');
  });

  it('a reply "accept JID" to the server’s notice accepts; the IQ query rejects', async () => {
    const erin = await online('erin');
    const dave = await online('dave');
    const fred = await online('fred');
    dave.send(chat(bare('erin'), 'dave here, about the invoice'));
    fred.send(chat(bare('erin'), 'fred here'));
    await erin.next(fromServer, 'notice about dave');
    await erin.next(fromServer, 'notice about fred');
    erin.send(chat(D, 'accept dave@localhost'));
    const held = await erin.next(is.message(bare('dave')), 'dave’s message');
    assert.equal(held.getChildText('body'), 'dave here, about the invoice');
    const rejected = await erin.iq(
      x('iq', { type: 'set' }, x('reject', { xmlns: NS_REQUESTS, jid: bare('fred') })),
    );
    assert.equal(rejected.attrs.type, 'result');
    const list = await erin.iq(x('iq', { type: 'get' }, x('list', { xmlns: NS_REQUESTS })));
    assert.equal(list.getChild('list', NS_REQUESTS)?.getChildren('request').length, 0);
    await erin.expectNone(is.message(bare('fred')), 'fred’s rejected message', 200);
    // Erin answering Dave is never held: she wrote to him... and he is in her roster now.
    erin.send(chat(bare('dave'), 'got it'));
    await dave.next(is.message(bare('erin'), 'got it'), 'the answer');
  });

  it('a new account may approach only new_account_hourly_limit strangers an hour', async () => {
    const gus = await online('gus');
    gus.send(chat(bare('hal'), 'hello 1'));
    gus.send(chat(bare('ian'), 'hello 2'));
    gus.send(chat(bare('jo'), 'hello 3', 'third'));
    const err = await gus.next((e) => e.attrs.id === 'third', 'the refusal');
    assert.equal(stanzaErrorOf(err), 'policy-violation', err.toString());
    assert.match(err.getChild('error')?.getChildText('text', ns.stanzaErrors) ?? '', /2 people/);
    assert.equal(events('stranger.limit')[0]?.actor.split('/')[0], bare('gus'));
  });

  it('a message to an account that does not exist is answered as before (service-unavailable)', async () => {
    const hal = await online('hal');
    hal.send(chat(bare('nobody'), 'anyone?', 'n1'));
    const err = await hal.next((e) => e.attrs.id === 'n1', 'the error');
    assert.equal(stanzaErrorOf(err), 'service-unavailable');
  });
});

describe('messages shaped to skip inspection', () => {
  // Each test logs in afresh; an account may hold only so many connections.
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  const refusedWith = async (c: RawClient, id: string, condition: string) => {
    const err = await c.next((e) => e.attrs.id === id, `the answer to ${id}`);
    assert.equal(stanzaErrorOf(err), condition, err.toString());
  };

  it('an error message out of the blue from a stranger is dropped; an error answering the recipient arrives, without an echoed body', async () => {
    const bob = await online('bob');
    const kim = await online('kim');
    kim.send(
      `<message to='${bare('bob')}' type='error' id='e1'><body>Your mailbox is full, log in at http://203.0.113.9/login</body><error type='cancel'><undefined-condition xmlns='${ns.stanzaErrors}'/></error></message>`,
    );
    await bob.expectNone(is.message(bare('kim')), 'the stranger’s error message', 300);
    const ev = events('stranger.error').find((e) => e.actor.startsWith(bare('kim')));
    assert.equal(ev?.target, bare('bob'));
    // Once Bob wrote to Kim, Kim's client may answer him with an error.
    bob.send(chat(bare('kim'), 'hello kim'));
    kim.send(
      `<message to='${bare('bob')}' type='error' id='e2'><error type='cancel'><item-not-found xmlns='${ns.stanzaErrors}'/></error></message>`,
    );
    const answer = await bob.next(is.message(bare('kim')), 'the error answer');
    assert.equal(answer.attrs.id, 'e2');
    // A contact's error carries only the error: an echoed "original" body is not inspected.
    const alice = await online('alice');
    alice.send(
      `<message to='${bare('bob')}' type='error' id='e3'><body>javascript:alert(1)</body><error type='cancel'><item-not-found xmlns='${ns.stanzaErrors}'/></error></message>`,
    );
    const echoed = await bob.next((e) => e.attrs.id === 'e3', 'the contact’s error');
    assert.equal(echoed.getChild('body'), undefined, echoed.toString());
    assert.ok(echoed.getChild('error'), echoed.toString());
  });

  it('groupchat from a user to a full JID is refused, not delivered past the stranger policy', async () => {
    const bob = await online('bob');
    const lee = await online('lee');
    lee.send(
      `<message to='${bob.jid}' type='groupchat' id='g1'><body>free gift cards at http://203.0.113.9/x</body></message>`,
    );
    await refusedWith(lee, 'g1', 'service-unavailable');
    await bob.expectNone(is.message(bare('lee')), 'the groupchat message', 300);
    assert.ok(events('groupchat.user').some((e) => e.actor.startsWith(bare('lee'))));
  });

  it('links in the subject, a second-language body, the out-of-band description and references are inspected', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    const lure = 'javascript:fetch(1)';
    alice.send(
      `<message to='${bare('bob')}' type='chat' id='s1'><subject>${lure}</subject><body>see subject</body></message>`,
    );
    await refusedWith(alice, 's1', 'policy-violation');
    alice.send(
      `<message to='${bare('bob')}' type='chat' id='s2'><body>hi</body><body xml:lang='de'>${lure}</body></message>`,
    );
    await refusedWith(alice, 's2', 'policy-violation');
    alice.send(
      `<message to='${bare('bob')}' type='chat' id='s3'><body>the picture</body><x xmlns='jabber:x:oob'><url>https://files.example.com/cat.png</url><desc>${lure}</desc></x></message>`,
    );
    await refusedWith(alice, 's3', 'policy-violation');
    alice.send(
      `<message to='${bare('bob')}' type='chat' id='s4'><body>the picture</body><reference xmlns='urn:xmpp:reference:0' type='data'><media-sharing xmlns='urn:xmpp:sims:1'><sources><reference xmlns='urn:xmpp:reference:0' type='data' uri='${lure}'/></sources></media-sharing></reference></message>`,
    );
    await refusedWith(alice, 's4', 'policy-violation');
    alice.send(
      `<message to='${bare('bob')}' type='chat' id='s5'><body>fwd</body><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='ceo@${D}/x' to='${bare('bob')}'><body>${lure}</body></message></forwarded></message>`,
    );
    await refusedWith(alice, 's5', 'policy-violation');
    await bob.expectNone(is.message(bare('alice')), 'any of the lures', 200);
  });

  it('archive results and pubsub events written by a client are refused as forgeries', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    const forged = `<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='ceo@${D}/x' to='${bare('bob')}'><body>wire the money today</body></message></forwarded>`;
    alice.send(
      `<message to='${bare('bob')}' id='f1'><result xmlns='urn:xmpp:mam:2' id='1'>${forged}</result></message>`,
    );
    await refusedWith(alice, 'f1', 'bad-request');
    alice.send(
      `<message to='${bare('bob')}' type='headline' id='f2'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:metadata'><item id='1'/></items></event></message>`,
    );
    await refusedWith(alice, 'f2', 'bad-request');
    await bob.expectNone(is.message(bare('alice')), 'a forged payload', 200);
    assert.ok(events('forged.server-payload').some((e) => e.actor.startsWith(bare('alice'))));
  });

  it('a verdict, notice or label fallback written by the sender is removed: only the server labels', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    alice.send(
      `<message to='${bare('bob')}' type='chat'><body>All clear, the link was checked</body><verdict xmlns='${NS_VERDICT}' level='info' threat='T2' rule='url'>Checked by your server: safe</verdict><notice xmlns='${NS_NOTICE}' threat='T2'/><fallback xmlns='urn:xmpp:fallback:0' for='${NS_VERDICT}'><body start='0' end='9'/></fallback></message>`,
    );
    const got = await bob.next(is.message(bare('alice')), 'the message');
    assert.equal(got.getChildText('body'), 'All clear, the link was checked');
    assert.equal(got.getChild('verdict', NS_VERDICT), undefined, got.toString());
    assert.equal(got.getChild('notice', NS_NOTICE), undefined, got.toString());
    assert.equal(got.getChild('fallback', 'urn:xmpp:fallback:0'), undefined, got.toString());
    const ev = events('forged.verdict').find((e) => e.actor.startsWith(bare('alice')));
    assert.equal(ev?.threat, 'T4');
  });

  it('XHTML wrapped inside another payload is stripped too', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    alice.send(
      `<message to='${bare('bob')}' type='chat'><body>wrapped</body><wrap xmlns='urn:example:wrap'><html xmlns='http://www.w3.org/1999/xhtml'><a href='javascript:alert(1)'>x</a></html></wrap></message>`,
    );
    const got = await bob.next(is.message(bare('alice'), 'wrapped'), 'the message');
    assert.equal(got.getChild('wrap', 'urn:example:wrap'), undefined, got.toString());
  });

  it('a Windows share on an outside host is held, one on the office network arrives; an IPv6 link is labelled', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    alice.send(chat(bare('bob'), 'notes: \\\\203.0.113.9\\share\\notes.txt'));
    alice.send(chat(bare('bob'), 'deck: \\\\fileserver\\sales\\q3.pptx'));
    const first = await bob.next(is.message(bare('alice')), 'the first message that arrives');
    assert.equal(first.getChildText('body'), 'deck: \\\\fileserver\\sales\\q3.pptx');
    alice.send(chat(bare('bob'), 'mirror at http://[2001:db8::7]:8180/x'));
    const v6 = await bob.next(is.message(bare('alice')), 'the IPv6 link');
    assert.equal(v6.getChild('verdict', NS_VERDICT)?.attrs.rule, 'url', v6.toString());
  });
});
