import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  loginArgs,
  runPyClient,
  slixmppSkipReason,
  startPyClient,
} from '../helpers/python-client.ts';
import { type RampartProcess, startRampart, withServerLog } from '../helpers/server.ts';

// The stranger policy (T1) with Debian's python3-slixmpp, a client that knows nothing of
// Rampart: the stranger's message waits, the recipient hears of it from the server, accepts
// by adding the sender to its roster, and then gets the message (with a delay stamp).

const skip = slixmppSkipReason();
const PASSWORD = 'interop-stranger-1';

describe('slixmpp: a stranger’s message waits until accepted', { skip }, () => {
  let server: RampartProcess;
  before(async () => {
    server = await startRampart();
    await server.addUser('carol', PASSWORD);
    await server.addUser('bob', PASSWORD);
  });
  after(async () => {
    await server?.stop();
  });

  test('hold, notice to both, accept by roster add, delivery in order with delay, reply', () =>
    withServerLog(server, async () => {
      const bob = startPyClient('bob', 'stranger.py', [
        ...loginArgs(server.ports.c2s, 'bob@localhost', PASSWORD),
        'recipient',
        '--peer',
        'carol@localhost',
      ]);
      await bob.waitFor((e) => e.event === 'ready', 'bob ready');
      const carol = await runPyClient('carol', 'stranger.py', [
        ...loginArgs(server.ports.c2s, 'carol@localhost', PASSWORD),
        'sender',
        '--peer',
        'bob@localhost',
      ]);
      assert.equal(carol.code, 0, `carol failed\n${carol.client.describe()}`);
      assert.equal(await bob.finish(), 0, `bob failed\n${bob.describe()}`);

      const got = bob.events.filter((e) => e.event === 'message');
      const notice = got.findIndex((e) => e.from === 'localhost');
      // Nothing from carol before bob added her (the script checks it then, and fails if so).
      const accepting = bob.events.findIndex((e) => e.event === 'accepting');
      const held = bob.events.findIndex(
        (e) => e.event === 'message' && String(e.from).startsWith('carol@localhost/'),
      );
      assert.ok(notice >= 0, 'bob got a notice from the server');
      assert.match(String(got[notice]?.body), /carol@localhost.*accept/s);
      assert.ok(held > accepting, 'the message came only after bob accepted');
      assert.equal(bob.events[held]?.delayed, true, 'the held message carries a delay stamp');
      assert.ok(
        carol.events.some((e) => e.event === 'message' && e.from === 'localhost'),
        'carol was told her message waits',
      );
    }));
});
