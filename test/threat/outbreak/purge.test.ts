import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SecurityEvent } from '../../../src/storage/ports.ts';
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import { messageParts } from '../../../src/threat/outbreak/message-parts.ts';
import { ZeroHourPurge } from '../../../src/threat/outbreak/purge.ts';
import { NS_RETRACT } from '../../../src/threat/outbreak/retraction.ts';
import { clientMessageId, ensureStanzaId, NS_SID } from '../../../src/threat/outbreak/stanza-id.ts';
import { type XmlElement, x } from '../../../src/xml/element.ts';

const DAY = 86_400_000;

test('ensureStanzaId removes a forged one, adds the server’s, keeps a trusted one', () => {
  const msg = x(
    'message',
    { id: 'm1' },
    x('body', {}, 'hi'),
    x('stanza-id', { xmlns: NS_SID, id: 'forged', by: 'bob@x' }),
    x('stanza-id', { xmlns: NS_SID, id: 'other', by: 'room@muc.x' }),
  );
  const id = ensureStanzaId(msg, 'bob@x');
  const ids = msg.getChildren('stanza-id', NS_SID).map((c) => `${c.attrs.by}=${c.attrs.id}`);
  assert.deepEqual(ids, ['room@muc.x=other', `bob@x=${id}`]);
  assert.notEqual(id, 'forged');
  assert.equal(ensureStanzaId(msg, 'bob@x', true), id);
  assert.equal(clientMessageId(msg), 'm1');
  msg.append(x('origin-id', { xmlns: NS_SID, id: 'o1' }));
  assert.equal(clientMessageId(msg), 'o1');
});

test('messageParts reads bodies, out-of-band links, file names and SHA-256 hashes', () => {
  const hash = Buffer.alloc(32, 7);
  const msg = x(
    'message',
    {},
    x('body', {}, 'try it'),
    x('x', { xmlns: 'jabber:x:oob' }, x('url', {}, 'https://up.example/f/ShootGame.exe')),
    x(
      'file-sharing',
      { xmlns: 'urn:xmpp:sfs:0' },
      x(
        'file',
        { xmlns: 'urn:xmpp:file:metadata:0' },
        x('name', {}, 'game.exe'),
        x('hash', { xmlns: 'urn:xmpp:hashes:2', algo: 'sha-256' }, hash.toString('base64')),
        x('hash', { xmlns: 'urn:xmpp:hashes:2', algo: 'sha3-256' }, 'AAAA'),
      ),
    ),
  );
  assert.deepEqual(messageParts(msg), {
    text: 'try it',
    extraUrls: ['https://up.example/f/ShootGame.exe'],
    sha256: [hash.toString('hex')],
    fileNames: ['ShootGame.exe', 'game.exe'],
  });
});

test('purge: offline copies deleted, delivered copies retracted, one event, log emptied', async () => {
  const storage = openSqliteStorage(':memory:');
  const sent: Array<{ to: string; msg: XmlElement }> = [];
  const events: SecurityEvent[] = [];
  const now = 10 * DAY;
  const purge = new ZeroHourPurge({
    storage,
    deliver: async (msg, to) => {
      sent.push({ to, msg });
    },
    record: (e) => events.push(e),
    retentionMs: () => 7 * DAY,
    now: () => now,
  });
  const url = 'url:http://192.0.2.7:8180/';
  // bob got it online; carol's copy waits offline; dave's is 8 days old; erin's is clean.
  await storage.deliveries.record({
    stanzaId: 's-bob',
    messageId: 'o-bob',
    sender: 'a@x',
    recipient: 'bob@x',
    artefacts: [url],
    time: now - 1000,
  });
  const stored = x(
    'message',
    { to: 'carol@x' },
    x('body', {}, 'lol'),
    x('stanza-id', { xmlns: NS_SID, id: 's-carol', by: 'carol@x' }),
  );
  await storage.offline.push('carol@x', stored.toString());
  await storage.offline.push('carol@x', x('message', {}, x('body', {}, 'keep me')).toString());
  await storage.deliveries.record({
    stanzaId: 's-carol',
    messageId: 'o-carol',
    sender: 'a@x',
    recipient: 'carol@x',
    artefacts: [url],
    time: now - 500,
  });
  await storage.deliveries.record({
    stanzaId: 's-dave',
    messageId: 'o-dave',
    sender: 'a@x',
    recipient: 'dave@x',
    artefacts: [url],
    time: now - 8 * DAY,
  });
  await storage.deliveries.record({
    stanzaId: 's-erin',
    messageId: 'o-erin',
    sender: 'a@x',
    recipient: 'erin@x',
    artefacts: ['url:https://fine.example/'],
    time: now - 100,
  });

  const result = await purge.purge({
    artefacts: [url],
    reason: 'it is a worm.',
    rule: 'purge.admin',
    actor: 'admin',
  });
  assert.deepEqual(result, { retracted: 1, removedOffline: 1 });
  assert.equal(sent.length, 1);
  const retraction = sent[0]!.msg;
  assert.equal(sent[0]!.to, 'bob@x');
  assert.equal(retraction.attrs.from, 'a@x', 'in the name of the original sender (XEP-0424 §5)');
  assert.equal(retraction.getChild('retract', NS_RETRACT)?.attrs.id, 'o-bob');
  assert.match(
    retraction.getChildText('body') ?? '',
    /removed a message a@x sent you.*it is a worm/,
  );
  assert.equal(retraction.getChild('fallback', 'urn:xmpp:fallback:0')?.attrs.for, NS_RETRACT);
  assert.deepEqual(
    (await storage.offline.list('carol@x')).map((m) => m.stanza.includes('keep me')),
    [true],
  );
  assert.equal(events.length, 1);
  assert.equal(events[0]!.verdict, 'retract');
  assert.deepEqual(events[0]!.evidence?.copies, 2);
  assert.deepEqual(await storage.deliveries.find({ artefacts: [url], since: 0 }), [
    {
      id: 3,
      stanzaId: 's-dave',
      messageId: 'o-dave',
      sender: 'a@x',
      recipient: 'dave@x',
      artefacts: [url],
      time: now - 8 * DAY,
    },
  ]);
  // A second purge finds nothing more to do.
  assert.deepEqual(
    await purge.purge({ artefacts: [url], reason: 'x', rule: 'purge.admin', actor: 'admin' }),
    { retracted: 0, removedOffline: 0 },
  );
  await storage.close();
});

test('purge limited to one sender leaves other senders’ copies alone', async () => {
  const storage = openSqliteStorage(':memory:');
  const sent: string[] = [];
  const purge = new ZeroHourPurge({
    storage,
    deliver: async (_m, to) => {
      sent.push(to);
    },
    record: () => {},
    retentionMs: () => DAY,
  });
  const url = 'url:http://192.0.2.7:8180/';
  for (const [sender, r] of [
    ['a@x', 'r1@x'],
    ['b@x', 'r2@x'],
  ] as const) {
    await storage.deliveries.record({
      stanzaId: `s-${r}`,
      messageId: `m-${r}`,
      sender,
      recipient: r,
      artefacts: [url],
      time: Date.now(),
    });
  }
  await purge.purge({
    artefacts: [url],
    sender: 'a@x',
    reason: 'x',
    rule: 'purge.fanout',
    actor: 'a@x',
  });
  assert.deepEqual(sent, ['r1@x']);
  await storage.close();
});
