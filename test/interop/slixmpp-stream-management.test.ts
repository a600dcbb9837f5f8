import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type BlackholeProxy, startBlackholeProxy } from '../helpers/blackhole-proxy.ts';
import {
  loginArgs,
  type PyClient,
  slixmppSkipReason,
  startPyClient,
} from '../helpers/python-client.ts';
import { is, ns, RawClient, x } from '../helpers/raw-client.ts';
import { type RampartProcess, startRampart, withServerLog } from '../helpers/server.ts';

// The proof for XEP-0198: Debian's slixmpp, with its own stream management plugin,
// loses its TCP connection without a FIN (a relay in between goes silent both ways), a contact
// keeps writing to it, slixmpp notices through its keepalive, reconnects and resumes, and every
// message sent during the outage arrives exactly once. Meanwhile the session never went
// offline for the contact.

const skip = slixmppSkipReason();
const PASSWORD = 'interop-sm-secret-1';
const D = 'localhost';

describe('slixmpp stream management against rampart', { skip }, () => {
  let server: RampartProcess;
  let proxy: BlackholeProxy | undefined;
  let py: PyClient | undefined;
  let sender: RawClient | undefined;

  before(async () => {
    server = await startRampart({ config: '[stream_management]\nresume_timeout_s = 60\n' });
    const users = await server.cli(
      ['user', 'import', '-'],
      `roamer@${D},${PASSWORD}\nwriter@${D},${PASSWORD}\n`,
    );
    assert.equal(users.code, 0, users.stderr);
    await server.addContacts('roamer', 'writer');
  });
  after(async () => {
    sender?.destroy();
    await py?.finish(5000);
    await proxy?.close();
    await server?.stop();
  });

  test('resumes after a silent connection loss; each message of the outage arrives once', async () => {
    await withServerLog(server, async () => {
      proxy = await startBlackholeProxy(server.ports.c2s);
      const roamer = `roamer@${D}`;
      sender = await RawClient.login({
        port: server.ports.c2sTls,
        directTls: true,
        username: 'writer',
        password: PASSWORD,
        resource: 'w',
      });
      await sender.iq(x('iq', { type: 'get' }, x('query', { xmlns: ns.roster })));
      sender.send(x('presence'));

      py = startPyClient('roamer', 'sm_resume.py', [
        ...loginArgs(proxy.port, roamer, PASSWORD),
        '--resource',
        'phone',
        '--keepalive',
        '1',
      ]);
      const enabled = await py.waitFor((e) => e.event === 'sm_enabled', 'stream management on');
      assert.ok(enabled.id, 'the server offered resumption');
      await sender.next(is.presence(`${roamer}/phone`), 'roamer online');
      const full = `${roamer}/phone`;
      sender.send(x('message', { to: full, type: 'chat' }, x('body', {}, 'before')));
      await py.waitFor((e) => e.event === 'message' && e.body === 'before', 'the first message');

      proxy.cut();
      const outage = ['o1', 'o2', 'o3', 'o4', 'o5'];
      for (const body of outage) {
        sender.send(x('message', { to: full, type: 'chat' }, x('body', {}, body)));
      }
      const resumed = await py.waitFor((e) => e.event === 'resumed', 'a resumption', 12_000);
      assert.ok(resumed);
      const bodies = () =>
        py!.events.filter((e) => e.event === 'message').map((e) => String(e.body));
      for (const body of outage) {
        await py.waitFor((e) => e.event === 'message' && e.body === body, `message ${body}`);
      }
      // Anything sent twice would come right behind the replay.
      sender.send(x('message', { to: full, type: 'chat' }, x('body', {}, 'after')));
      await py.waitFor((e) => e.event === 'message' && e.body === 'after', 'a later message');
      assert.deepEqual(bodies(), ['before', ...outage, 'after'], py.describe());
      assert.equal(py.events.filter((e) => e.event === 'session').length, 1, 'no new session');
      assert.equal(py.events.filter((e) => e.event === 'sm_failed').length, 0);
      assert.ok(proxy.accepted >= 2, 'slixmpp came back on a new connection');
      // The contact never saw the roamer leave: the session stayed bound through the outage.
      await sender.expectNone(is.presence(full, 'unavailable'), 'unavailable presence', 200);
    });
  });
});
