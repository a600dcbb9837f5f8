import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { securityEvents } from '../../helpers/events.ts';
import { ClientPool, is, type RawClient, x } from '../../helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../../helpers/server.ts';

/**
 * Spim through presence (T1): a subscription request or directed presence reaches people who
 * never accepted the sender, so a link (or display-breaking text) in its status is removed
 * before it reaches them; the request itself, and a plain greeting, still arrive.
 */
const PASSWORD = 'presence status 1';
const D = 'localhost';
const bare = (u: string) => `${u}@${D}`;
let server: RampartProcess;
const pool = new ClientPool(() => server.ports.c2sTls, PASSWORD);

async function online(username: string): Promise<RawClient> {
  const c = await pool.login(username);
  c.send(x('presence'));
  await c.iq(x('iq', { type: 'get', to: D }, x('ping', { xmlns: 'urn:xmpp:ping' })));
  return c;
}

before(async () => {
  server = await startRampart();
  await server.importUsers(['bob', 'spammer', 'colleague'], PASSWORD);
});

after(async () => {
  pool.destroyAll();
  await server?.stop();
});

it('a subscription request keeps a plain greeting but loses a status carrying a link', async () => {
  const bob = await online('bob');
  const spammer = await online('spammer');
  const colleague = await online('colleague');
  spammer.send(
    `<presence to='${bare('bob')}' type='subscribe'><status>add me! deals at www.cheap-meds.top/buy</status></presence>`,
  );
  const request = await bob.next(is.presence(bare('spammer'), 'subscribe'), 'the request');
  assert.equal(request.getChild('status'), undefined, request.toString());
  colleague.send(
    `<presence to='${bare('bob')}' type='subscribe'><status>Hi Bob, Ana from accounting</status></presence>`,
  );
  const plain = await bob.next(is.presence(bare('colleague'), 'subscribe'), 'the plain request');
  assert.equal(plain.getChildText('status'), 'Hi Bob, Ana from accounting');
  const ev = (await securityEvents(server, 'presence.status')).find((e) =>
    e.actor.startsWith(bare('spammer')),
  );
  assert.equal(ev?.threat, 'T1');
  assert.match(ev?.evidence ?? '', /cheap-meds\.top/);
});

it('a directed presence from a stranger loses an obfuscated link in its status and nickname', async () => {
  const bob = await online('bob');
  const spammer = await online('spammer');
  spammer.send(
    `<presence to='${bob.jid}'><status>hot singles: hxxp://203.0.113.9:8180/x</status><nick xmlns='http://jabber.org/protocol/nick'>visit cheap-meds dot top</nick></presence>`,
  );
  const got = await bob.next(is.presence(bare('spammer')), 'the directed presence');
  assert.equal(got.getChild('status'), undefined, got.toString());
  assert.equal(got.getChild('nick'), undefined, got.toString());
});
