import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  loginArgs,
  type PyClient,
  type PyEvent,
  type PyRun,
  runPyClient,
  slixmppSkipReason,
  startPyClient,
} from '../helpers/python-client.ts';
import { type RampartProcess, startRampart, withServerLog } from '../helpers/server.ts';

// Debian's python3-slixmpp (1.8.x), a client no one here wrote, against the real `rampart`
// command: STARTTLS and direct TLS logins, subscription with approval, presence, chat,
// offline delivery, and what a user without approval can (not) learn (T7).

const skip = slixmppSkipReason();
const PASSWORD = 'interop-secret-1';

function find(events: readonly PyEvent[], name: string): PyEvent | undefined {
  return events.find((e) => e.event === name);
}

function assertRan(run: PyRun, what: string): void {
  assert.equal(run.code, 0, `${what} failed\n${run.client.describe()}`);
}

function bare(jid: unknown): string {
  return String(jid ?? '').split('/')[0] ?? '';
}

describe('slixmpp against rampart', { skip }, () => {
  let server: RampartProcess;
  let n = 0;
  /** A fresh account name for each use, so tests never share state. */
  const user = async (prefix: string) => {
    n += 1;
    const name = `${prefix}${n}`;
    await server.addUser(name, PASSWORD);
    return `${name}@localhost`;
  };
  const starttls = (jid: string) => loginArgs(server.ports.c2s, jid, PASSWORD);
  const directTls = (jid: string) => [
    ...loginArgs(server.ports.c2sTls, jid, PASSWORD),
    '--tls',
    'direct',
  ];

  before(async () => {
    server = await startRampart();
  });
  after(async () => {
    await server?.stop();
  });

  test('logs in over STARTTLS with SCRAM-SHA-256 and gets a server-generated resource', async () => {
    await withServerLog(server, async () => {
      const jid = await user('starttls');
      const run = await runPyClient('login', 'login.py', [
        ...starttls(jid),
        '--mech',
        'SCRAM-SHA-256',
      ]);
      assertRan(run, 'STARTTLS login');
      const session = find(run.events, 'session');
      assert.equal(session?.mechanism, 'SCRAM-SHA-256');
      assert.match(String(session?.tls), /^TLSv1\.[23]$/);
      assert.equal(find(run.events, 'sasl_auth')?.gs2_flag, 'n');
      assert.ok(
        String(session?.jid).startsWith(`${jid}/`) && String(session?.jid).length > jid.length + 1,
        `bound JID ${session?.jid} should be ${jid}/<generated resource>`,
      );
      assert.equal(find(run.events, 'roster')?.type, 'result');
      assert.equal(find(run.events, 'ping')?.type, 'result');
    });
  });

  for (const [mech, tlsMax] of [
    ['SCRAM-SHA-256-PLUS', '1.3'],
    ['SCRAM-SHA-1-PLUS', '1.2'],
  ] as const) {
    test(`logs in over direct TLS ${tlsMax} with ${mech} (tls-server-end-point)`, async () => {
      await withServerLog(server, async () => {
        const jid = await user('direct');
        const run = await runPyClient('login', 'login.py', [
          ...directTls(jid),
          '--mech',
          mech,
          '--channel-binding',
          'tls-server-end-point',
          '--tls-max',
          tlsMax,
        ]);
        assertRan(run, `direct TLS ${mech} login`);
        assert.equal(find(run.events, 'session')?.mechanism, mech);
        assert.equal(find(run.events, 'session')?.tls, `TLSv${tlsMax}`);
        assert.equal(find(run.events, 'sasl_auth')?.gs2_flag, 'p=tls-server-end-point');
      });
    });
  }

  for (const mutual of [true, false]) {
    const title = mutual
      ? 'mutual subscription with approval: presence both ways, chat both ways'
      : 'one-way subscription with approval: A sees B, B never sees A; chat both ways';
    test(title, async () => {
      await withServerLog(server, async () => {
        const a = await user('alice');
        const b = await user('bob');
        const both = mutual ? ['--mutual'] : [];
        const approver = startPyClient('bob', 'subscribe.py', [
          ...starttls(b),
          'approve',
          '--peer',
          a,
          ...both,
          '--resource',
          'phone',
        ]);
        try {
          await approver.waitFor((e) => e.event === 'ready', 'bob ready');
          const requester = await runPyClient('alice', 'subscribe.py', [
            ...directTls(a),
            '--channel-binding',
            'tls-server-end-point',
            'request',
            '--peer',
            b,
            ...both,
          ]);
          assertRan(requester, 'alice (subscribe, chat)');
          const bobCode = await approver.finish();
          assert.equal(bobCode, 0, `bob (approve, echo) failed\n${approver.describe()}`);

          // Alice saw Bob's approval and then his presence, with the status he set.
          const events = requester.events;
          const subscribed = events.findIndex(
            (e) => e.event === 'presence' && e.type === 'subscribed' && bare(e.from) === b,
          );
          const bobOnline = events.findIndex(
            (e) => e.event === 'presence' && e.type === 'available' && e.from === `${b}/phone`,
          );
          assert.ok(subscribed >= 0, 'alice got <presence type="subscribed"/> from bob');
          assert.ok(bobOnline >= 0, `alice saw bob's presence from ${b}/phone`);
          assert.equal(events[bobOnline]?.status, 'approver here');
          assert.ok(
            events.some(
              (e) => e.event === 'message' && e.body === 'echo: hello' && bare(e.from) === b,
            ),
            "alice got bob's reply",
          );
          assert.deepEqual(
            find(events, 'roster_item'),
            {
              event: 'roster_item',
              jid: b,
              subscription: mutual ? 'both' : 'to',
              pending_out: false,
            },
            "alice's roster item for bob",
          );
          assert.ok(
            approver.events.some(
              (e) => e.event === 'message' && e.body === 'hello' && bare(e.from) === a,
            ),
            'bob got the message from alice',
          );
          // Bob sees Alice's presence only once she approved him too (RFC 6121 §4.2.2).
          const alicePresence = approver.events.filter(
            (e) => e.event === 'presence' && bare(e.from) === a && e.type === 'available',
          );
          if (mutual) assert.ok(alicePresence.length > 0, "bob saw alice's presence");
          else
            assert.deepEqual(alicePresence, [], 'bob, not subscribed to alice, got her presence');
          assert.equal(
            find(approver.events, 'roster_item')?.subscription,
            mutual ? 'both' : 'from',
          );
        } finally {
          await approver.finish(2000);
        }
      });
    });
  }

  test('a message sent while the recipient is offline arrives at its next login, once', async () => {
    await withServerLog(server, async () => {
      const a = await user('sender');
      const b = await user('sleeper');
      await server.addContacts(a.split('@')[0] ?? '', b.split('@')[0] ?? '');
      const send = await runPyClient('sender', 'offline.py', [
        ...starttls(a),
        '--mech',
        'SCRAM-SHA-256',
        'send',
        '--peer',
        b,
        '--count',
        '3',
      ]);
      assertRan(send, 'sending to an offline contact');
      const receive = await runPyClient('sleeper', 'offline.py', [
        ...starttls(b),
        'receive',
        '--peer',
        a,
        '--count',
        '3',
      ]);
      assertRan(receive, 'receiving offline messages');
      const got = receive.events.filter((e) => e.event === 'message' && e.body !== '');
      assert.deepEqual(
        got.map((e) => e.body),
        ['offline 1', 'offline 2', 'offline 3'],
      );
      assert.ok(
        got.every((e) => e.delayed === true),
        'offline messages carry a XEP-0203 <delay/>',
      );
      const again = await runPyClient('sleeper', 'offline.py', [
        ...starttls(b),
        'receive',
        '--peer',
        a,
        '--count',
        '0',
      ]);
      assertRan(again, 'a second login gets no offline messages again');
    });
  });

  test('without approval, presence and last activity stay hidden (T7)', async () => {
    await withServerLog(server, async () => {
      const a = await user('friend');
      const b = await user('target');
      const c = await user('stranger');
      const [aLocal, bLocal] = [a.split('@')[0] ?? '', b.split('@')[0] ?? ''];
      await server.addContacts(aLocal, bLocal);
      const common = ['--timeout', '40'];
      const target = startPyClient('target', 'privacy.py', [
        ...starttls(b),
        ...common,
        '--peer',
        c,
        '--resource',
        'desk',
        '--status',
        'target-status-1',
      ]);
      const clients: PyClient[] = [target];
      try {
        await target.waitFor((e) => e.event === 'ready', 'target ready');
        const stranger = startPyClient('stranger', 'privacy.py', [
          ...starttls(c),
          ...common,
          '--peer',
          b,
          '--peer-resource',
          'desk',
        ]);
        const friend = startPyClient('friend', 'privacy.py', [
          ...starttls(a),
          ...common,
          '--peer',
          b,
          '--peer-resource',
          'desk',
        ]);
        clients.push(stranger, friend);
        await stranger.waitFor((e) => e.event === 'ready', 'stranger ready');
        await friend.waitFor((e) => e.event === 'ready', 'friend ready');

        // Control: the approved contact sees the target's presence and last activity.
        await friend.waitFor(
          (e) => e.event === 'presence' && e.from === `${b}/desk` && e.status === 'target-status-1',
          "friend sees target's presence",
        );
        friend.command('last');
        const friendLast = await friend.waitFor(
          (e) => e.event === 'result' && e.cmd === 'last',
          'last',
        );
        assert.equal(
          friendLast.type,
          'result',
          `approved contact's XEP-0012 query: ${friendLast.raw}`,
        );
        // The target's slixmpp answers XEP-0092 itself, so an error for the stranger below is
        // the server's doing.
        friend.command('version');
        const friendVersion = await friend.waitFor(
          (e) => e.event === 'result' && e.cmd === 'version',
          'version',
        );
        assert.equal(
          friendVersion.type,
          'result',
          `approved contact's XEP-0092: ${friendVersion.raw}`,
        );

        // The stranger asks, probes and queries; the target ignores the request.
        const results: Record<string, PyEvent> = {};
        for (const cmd of ['subscribe', 'probe', 'last', 'items', 'version']) {
          stranger.command(cmd);
          results[cmd] = await stranger.waitFor((e) => e.event === 'result' && e.cmd === cmd, cmd);
        }
        await target.waitFor(
          (e) => e.event === 'presence' && e.type === 'subscribe' && bare(e.from) === c,
          'target receives the subscription request',
        );
        target.command('status target-status-2');
        await target.waitFor((e) => e.event === 'result' && e.cmd === 'status', 'status sent');
        await friend.waitFor(
          (e) => e.event === 'presence' && e.status === 'target-status-2',
          "friend sees target's new status",
        );
        await target.finish();
        await friend.waitFor(
          (e) => e.event === 'presence' && e.type === 'unavailable' && bare(e.from) === b,
          'friend sees target go offline',
        );
        stranger.command('last');
        const lastOffline = await stranger.waitFor(
          (e) => e.event === 'result' && e.cmd === 'last',
          'last after logout',
        );
        friend.command('last');
        const friendLastOffline = await friend.waitFor(
          (e) => e.event === 'result' && e.cmd === 'last',
          'friend last after logout',
        );
        assert.equal(
          friendLastOffline.type,
          'result',
          `approved contact's XEP-0012 query after logout: ${friendLastOffline.raw}`,
        );
        await new Promise((r) => setTimeout(r, 500));

        const hiddenConditions = ['forbidden', 'service-unavailable', 'subscription-required'];
        for (const [label, r] of [
          ['last activity while online', results.last],
          ['last activity after logout', lastOffline],
        ] as const) {
          assert.equal(
            r?.type,
            'error',
            `stranger's XEP-0012 query (${label}) must fail: ${r?.raw}`,
          );
          assert.ok(
            hiddenConditions.includes(String(r?.condition)),
            `stranger's XEP-0012 query (${label}) error condition ${r?.condition}: ${r?.raw}`,
          );
        }
        // disco#items on a bare JID must not list the account's resources.
        const items = results.items;
        assert.ok(
          items?.type === 'error' || !String(items?.raw).includes(`${b}/desk`),
          `stranger's disco#items on the target lists its resource: ${items?.raw}`,
        );
        // A user's software version goes to approved contacts only.
        assert.equal(
          results.version?.type,
          'error',
          `stranger's XEP-0092 query to ${b}/desk must fail: ${results.version?.raw}`,
        );

        // Nothing from the target reaches the stranger but a refusal or an error.
        const leaked = stranger.events.filter(
          (e) =>
            e.event === 'presence' &&
            bare(e.from) === b &&
            !['unsubscribed', 'error'].includes(String(e.type)),
        );
        assert.deepEqual(leaked, [], "stranger received the target's presence");
        assert.equal(
          stranger.events.filter((e) => String(e.raw ?? '').includes('target-status')).length,
          0,
          "the target's status text reached the stranger",
        );
        for (const p of [stranger, friend]) {
          assert.equal(await p.finish(), 0, `${p.name} failed\n${p.describe()}`);
        }
      } finally {
        await Promise.all(clients.map((p) => p.finish(2000)));
      }
    });
  });
});

// slixmpp 1.8.3 (Debian 12) with its own SASL choices: it knows only the tls-unique channel
// binding (the one CPython exposes), sends `p=tls-unique` for every -PLUS mechanism even on
// TLS 1.3, and the gs2 flag `y` for plain SCRAM on any TLS connection. Rampart accepts
// tls-unique (advertised on TLS 1.2 only), so it logs in unchanged.
describe('slixmpp 1.8 unchanged (its own channel-binding choices) against rampart', {
  skip,
}, () => {
  let server: RampartProcess;
  let n = 0;
  const user = async (prefix: string) => {
    n += 1;
    const name = `${prefix}${n}`;
    await server.addUser(name, PASSWORD);
    return `${name}@localhost`;
  };

  // A server of its own: these logins fail on purpose, and failures counted against
  // 127.0.0.1 must not put the other tests' logins into the brute-force back-off.
  before(async () => {
    server = await startRampart({
      authTable: '[auth]\nscram_iterations = 4096\n',
    });
  });
  after(async () => {
    await server?.stop();
  });

  test('refuses SCRAM with gs2 flag "y" once -PLUS was offered (RFC 5802 §6 downgrade check)', async () => {
    await withServerLog(server, async () => {
      const jid = await user('downgrade');
      const run = await runPyClient('login', 'login.py', [
        ...loginArgs(server.ports.c2s, jid, PASSWORD),
        '--mech',
        'SCRAM-SHA-256',
        '--channel-binding',
        'stock',
      ]);
      assert.notEqual(run.code, 0, `login with flag y must fail\n${run.client.describe()}`);
      assert.equal(find(run.events, 'sasl_auth')?.gs2_flag, 'y');
      assert.ok(find(run.events, 'sasl_failure'), `a SASL <failure/>\n${run.client.describe()}`);
      assert.equal(find(run.events, 'session'), undefined);
    });
  });

  test('logs in with default settings over STARTTLS', async () => {
    const jid = await user('stock');
    const run = await runPyClient('login', 'login.py', [
      ...loginArgs(server.ports.c2s, jid, PASSWORD),
      '--channel-binding',
      'stock',
    ]);
    assertRan(run, 'default slixmpp login');
  });

  test('logs in over direct TLS 1.3 with default settings (-PLUS with tls-unique)', async () => {
    const jid = await user('unique13');
    const run = await runPyClient('login', 'login.py', [
      ...loginArgs(server.ports.c2sTls, jid, PASSWORD),
      '--tls',
      'direct',
      '--channel-binding',
      'stock',
    ]);
    assertRan(run, 'slixmpp default login over direct TLS 1.3');
    assert.match(String(find(run.events, 'session')?.mechanism), /-PLUS$/);
  });

  test('logs in over direct TLS 1.2 with SCRAM-SHA-256-PLUS (tls-unique)', async () => {
    const jid = await user('unique');
    const run = await runPyClient('login', 'login.py', [
      ...loginArgs(server.ports.c2sTls, jid, PASSWORD),
      '--tls',
      'direct',
      '--tls-max',
      '1.2',
      '--mech',
      'SCRAM-SHA-256-PLUS',
      '--channel-binding',
      'stock',
    ]);
    assertRan(run, 'slixmpp tls-unique login');
    assert.equal(find(run.events, 'session')?.mechanism, 'SCRAM-SHA-256-PLUS');
  });
});
