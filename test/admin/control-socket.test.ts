import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  askServer,
  type ControlEvent,
  type ControlHandlers,
  controlSocketPath,
  NoServerError,
  notifyServer,
  notifyServerMany,
  startControlServer,
} from '../../src/admin/control-socket.ts';

function recordingHandlers(): { seen: string[]; handlers: ControlHandlers } {
  const seen: string[] = [];
  return {
    seen,
    handlers: {
      accountRemoved: (jid) => void seen.push(`removed ${jid}`),
      credentialsChanged: (jid) => void seen.push(`credentials ${jid}`),
      rosterChanged: (owner, contact) => void seen.push(`roster ${owner} ${contact}`),
      accountReleased: (jid) => void seen.push(`released ${jid}`),
      artefactBlocked: (kind, value) => void seen.push(`blocked ${kind} ${value}`),
      artefactUnblocked: (kind, value) => void seen.push(`unblocked ${kind} ${value}`),
      policyReload: () => void seen.push('policy reload'),
      heldRelease: (ids) => void seen.push(`release ${ids.join(',')}`),
    },
  };
}

/** Sends raw text and collects answer lines until `count` arrived. */
function exchange(path: string, text: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    const lines: string[] = [];
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl !== -1) {
        lines.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
      }
      if (lines.length >= count) {
        socket.destroy();
        resolve(lines);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(lines));
  });
}

describe('control socket', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-ctl-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('delivers events to the handlers and answers ok', async () => {
    const { seen, handlers } = recordingHandlers();
    const server = await startControlServer(controlSocketPath(dir), handlers);
    try {
      await notifyServer(dir, { type: 'accountRemoved', jid: 'alice@localhost' });
      await notifyServer(dir, { type: 'credentialsChanged', jid: 'bob@localhost' });
      const batch: ControlEvent[] = [
        { type: 'rosterChanged', owner: 'alice@localhost', contact: 'bob@localhost' },
        { type: 'rosterChanged', owner: 'bob@localhost', contact: 'alice@localhost' },
        { type: 'accountReleased', jid: 'carol@localhost' },
        { type: 'artefactBlocked', kind: 'domain', value: 'evil.example' },
        { type: 'artefactUnblocked', kind: 'url', value: 'http://x/' },
      ];
      await notifyServerMany(dir, batch);
      assert.deepEqual(seen, [
        'removed alice@localhost',
        'credentials bob@localhost',
        'roster alice@localhost bob@localhost',
        'roster bob@localhost alice@localhost',
        'released carol@localhost',
        'blocked domain evil.example',
        'unblocked url http://x/',
      ]);
    } finally {
      await server.close();
    }
  });

  it('creates the socket with mode 0600 and removes it on close', async () => {
    const path = controlSocketPath(dir);
    const server = await startControlServer(path, recordingHandlers().handlers);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await server.close();
    assert.throws(() => statSync(path), { code: 'ENOENT' });
  });

  it('is a no-op when no server listens', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'rampart-ctl-none-'));
    try {
      await notifyServer(empty, { type: 'accountRemoved', jid: 'a@localhost' });
      await notifyServer(join(empty, 'missing-dir'), {
        type: 'accountRemoved',
        jid: 'a@localhost',
      });
      // Only a request a running server must carry out (policy reload) fails without one.
      await assert.rejects(askServer(empty, { type: 'policyReload' }), NoServerError);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('replaces a stale socket file left by a crashed server', async () => {
    const path = controlSocketPath(dir);
    // A process killed while listening leaves its socket file behind.
    const child = spawn(
      process.execPath,
      [
        '-e',
        'require("net").createServer().listen(process.argv[1], () => console.log("up"))',
        path,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await once(child.stdout, 'data');
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.ok(statSync(path).isSocket());
    const { seen, handlers } = recordingHandlers();
    const server = await startControlServer(path, handlers);
    try {
      await notifyServer(dir, { type: 'accountRemoved', jid: 'x@localhost' });
      assert.deepEqual(seen, ['removed x@localhost']);
    } finally {
      await server.close();
    }
  });

  it('refuses to start when another server answers on the socket', async () => {
    const path = controlSocketPath(dir);
    const first = await startControlServer(path, recordingHandlers().handlers);
    try {
      await assert.rejects(startControlServer(path, recordingHandlers().handlers), /in use/);
    } finally {
      await first.close();
    }
  });

  it('refuses to replace a file that is not a socket', async () => {
    const path = controlSocketPath(dir);
    writeFileSync(path, 'not a socket');
    try {
      await assert.rejects(startControlServer(path, recordingHandlers().handlers), /not a socket/);
    } finally {
      rmSync(path, { force: true });
    }
  });

  it('answers errors for bad input and keeps serving', async () => {
    const path = controlSocketPath(dir);
    const { seen, handlers } = recordingHandlers();
    handlers.credentialsChanged = () => {
      throw new Error('boom');
    };
    const server = await startControlServer(path, handlers);
    try {
      const answers = await exchange(
        path,
        [
          'not json',
          '{"type":"nope","jid":"a@b"}',
          '{"type":"accountRemoved"}',
          '{"type":"accountRemoved","jid":"a@b","extra":1}',
          '[1,2]',
          '{"type":"credentialsChanged","jid":"a@b"}',
          '{"type":"accountRemoved","jid":"a@b"}',
          '',
        ].join('\n'),
        7,
      );
      assert.equal(answers.length, 7);
      const parsed = answers.map((l) => JSON.parse(l) as { ok: boolean; error?: string });
      assert.deepEqual(
        parsed.map((a) => a.ok),
        [false, false, false, false, false, false, true],
      );
      assert.equal(parsed[0]?.error, 'bad JSON');
      assert.match(parsed[5]?.error ?? '', /handler failed: boom/);
      assert.deepEqual(seen, ['removed a@b']);

      const tooLong = await exchange(path, 'x'.repeat(40 * 1024), 1);
      assert.match(tooLong[0] ?? '', /line too long/);

      // Still alive.
      await notifyServer(dir, { type: 'accountRemoved', jid: 'c@d' });
      assert.deepEqual(seen, ['removed a@b', 'removed c@d']);
    } finally {
      await server.close();
    }
  });

  it('reports a refusal from the server to the notifier', async () => {
    const path = controlSocketPath(dir);
    const { handlers } = recordingHandlers();
    handlers.accountRemoved = async () => {
      throw new Error('nope');
    };
    const server = await startControlServer(path, handlers);
    try {
      await assert.rejects(
        notifyServer(dir, { type: 'accountRemoved', jid: 'a@b' }),
        /refused the change: handler failed: nope/,
      );
    } finally {
      await server.close();
    }
  });
});
