import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bin, cleanEnv, rampart } from '../helpers/cli.ts';
import { type RampartProcess, startRampart, withServerLog } from '../helpers/server.ts';
import { connectXmppJs, type XmlElement, xml } from '../helpers/xmpp-client.ts';

const NS_ROSTER = 'jabber:iq:roster';

async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('rampart start', () => {
  it('writes the pid file, reloads the policy on SIGHUP, and exits 0 on SIGTERM removing the pid file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-start-'));
    const pidFile = join(dir, 'rampart.pid');
    writeFileSync(join(dir, 'rampart.toml'), '[auth]\nscram_iterations = 4096\n');
    const child = spawn(
      process.execPath,
      [
        bin,
        'start',
        '--config',
        join(dir, 'rampart.toml'),
        '--data-dir',
        join(dir, 'data'),
        '--bind',
        '127.0.0.1',
        '--c2s-port',
        '0',
        '--c2s-tls-port',
        '0',
        '--https-port',
        '0',
        '--pid-file',
        pidFile,
        '--log-level',
        'silent',
      ],
      { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    let exitCode: number | null | undefined;
    const exited = new Promise<void>((resolve) =>
      child.once('exit', (code) => {
        exitCode = code;
        resolve();
      }),
    );
    try {
      await waitFor(() => existsSync(pidFile) || exitCode !== undefined, 'the pid file');
      assert.equal(exitCode, undefined, `start exited early: ${stderr}`);
      assert.equal(readFileSync(pidFile, 'utf8').trim(), String(child.pid));
      const socket = join(dir, 'data', 'control.sock');
      assert.ok(existsSync(socket), 'control socket is listening');

      child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(exitCode, undefined, 'SIGHUP must not stop the server');

      child.kill('SIGTERM');
      await exited;
      assert.equal(exitCode, 0, stderr);
      assert.equal(stderr, 'rampart: SIGHUP: threat policy reloaded\n');
      assert.ok(!existsSync(pidFile), 'pid file removed');
      assert.ok(!existsSync(socket), 'control socket removed');
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with one line when a port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    assert.ok(address !== null && typeof address === 'object');
    const dir = mkdtempSync(join(tmpdir(), 'rampart-start-'));
    try {
      const run = await rampart([
        'start',
        '--data-dir',
        dir,
        '--bind',
        '127.0.0.1',
        '--c2s-port',
        String(address.port),
        '--c2s-tls-port',
        '0',
        '--https-port',
        '0',
        '--log-level',
        'silent',
      ]);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /^rampart: cannot start: .*EADDRINUSE.*\n$/);
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('admin commands take effect on the running server', () => {
  let server: RampartProcess;
  const PASSWORD = 'online-secret-1';

  before(async () => {
    server = await startRampart();
    for (const name of ['alice', 'bob', 'carol']) await server.addUser(name, PASSWORD);
  });
  after(async () => {
    await server?.stop();
  });

  const online = async (username: string) => {
    const client = await connectXmppJs({ port: server.ports.c2s, username, password: PASSWORD });
    let disconnected = false;
    client.xmpp.on('disconnect', () => {
      disconnected = true;
    });
    // Fetching the roster makes the session interested in roster pushes (RFC 6121 §2.1.6).
    await client.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })));
    await client.send(xml('presence'));
    return { client, isDisconnected: () => disconnected };
  };

  it('roster add pushes the new item to the online owner', async () => {
    await withServerLog(server, async () => {
      const { client } = await online('alice');
      try {
        const run = await server.cli(['roster', 'add', 'alice@localhost', 'bob@localhost']);
        assert.equal(run.code, 0, run.stderr);
        await client.waitFor(
          (el: XmlElement) =>
            el.name === 'iq' &&
            el.attrs.type === 'set' &&
            el.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.jid === 'bob@localhost' &&
            el.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.subscription === 'both',
          'roster push for bob',
        );
      } finally {
        await client.stop();
      }
    });
  });

  it('user passwd and user remove end the account’s sessions', async () => {
    await withServerLog(server, async () => {
      const bob = await online('bob');
      const passwd = await server.cli(
        ['user', 'passwd', 'bob@localhost', '--password-stdin'],
        'a brand new password\n',
      );
      assert.equal(passwd.code, 0, passwd.stderr);
      await waitFor(bob.isDisconnected, 'bob to be disconnected', 10_000);
      await bob.client.stop();

      const carol = await online('carol');
      const remove = await server.cli(['user', 'remove', 'carol@localhost']);
      assert.equal(remove.code, 0, remove.stderr);
      await waitFor(carol.isDisconnected, 'carol to be disconnected', 10_000);
      await carol.client.stop();
    });
  });
});
