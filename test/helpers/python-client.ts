import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './server.ts';

/**
 * Runs the slixmpp scripts in test/clients/ with Debian's python3 (where python3-slixmpp
 * lives; a pyenv python3 earlier on PATH would not have it) and reads their JSON-line
 * observations.
 */

export const PYTHON = '/usr/bin/python3';
const clientsDir = join(repoRoot, 'test', 'clients');

export interface PyEvent {
  event: string;
  [key: string]: unknown;
}

/** Why slixmpp tests cannot run here, or undefined when they can. */
export function slixmppSkipReason(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import slixmpp; print(slixmpp.__version__)'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (r.error) return `${PYTHON} not runnable (${r.error.message}); install python3-slixmpp`;
  if (r.status !== 0) return `${PYTHON} has no slixmpp; install the Debian package python3-slixmpp`;
  return undefined;
}

export interface PyClient {
  name: string;
  events: PyEvent[];
  /** First not yet consumed event that matches (already printed or later). */
  waitFor(match: (e: PyEvent) => boolean, label: string, timeoutMs?: number): Promise<PyEvent>;
  /** Writes one command line to the script's stdin. */
  command(line: string): void;
  /** Closes stdin and resolves with the exit code once the script ends. */
  finish(timeoutMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
  /** Script's stderr (slixmpp's debug log: every stanza in and out). */
  stderr(): string;
  /** Events and the tail of stderr, for an assertion message. */
  describe(): string;
}

interface Waiter {
  match: (e: PyEvent) => boolean;
  resolve: (e: PyEvent) => void;
}

/** Starts `test/clients/SCRIPT` with ARGS; it runs until it exits or stdin is closed. */
export function startPyClient(name: string, script: string, args: readonly string[]): PyClient {
  const child: ChildProcess = spawn(PYTHON, [join(clientsDir, script), ...args], {
    cwd: clientsDir,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
  });
  const events: PyEvent[] = [];
  const pending: PyEvent[] = [];
  const waiters: Waiter[] = [];
  let stderr = '';
  let partial = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  child.stdout?.on('data', (d: Buffer) => {
    partial += d.toString('utf8');
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const line = partial.slice(0, nl).trim();
      partial = partial.slice(nl + 1);
      nl = partial.indexOf('\n');
      if (!line) continue;
      let ev: PyEvent;
      try {
        ev = JSON.parse(line) as PyEvent;
      } catch {
        ev = { event: 'unparsed', line };
      }
      events.push(ev);
      const i = waiters.findIndex((w) => w.match(ev));
      if (i >= 0) waiters.splice(i, 1)[0]?.resolve(ev);
      else pending.push(ev);
    }
  });
  child.stdin?.on('error', () => {});
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  let exitCode: number | null | undefined;
  void exited.then((c) => {
    exitCode = c;
  });

  const describe = () =>
    `${name} (${script} ${args.join(' ')}) events:\n${events
      .map((e) => `  ${JSON.stringify(e)}`)
      .join('\n')}\n${name} stderr (tail):\n${stderr.split('\n').slice(-60).join('\n')}`;

  return {
    name,
    events,
    exited,
    stderr: () => stderr,
    describe,
    command(line) {
      child.stdin?.write(`${line}\n`);
    },
    waitFor(match, label, timeoutMs = 10_000) {
      const i = pending.findIndex(match);
      if (i >= 0) return Promise.resolve(pending.splice(i, 1)[0] as PyEvent);
      return new Promise<PyEvent>((resolve, reject) => {
        const fail = (why: string) => {
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`${name}: ${why} waiting for ${label}\n${describe()}`));
        };
        const waiter: Waiter = {
          match,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
        waiters.push(waiter);
        void exited.then((code) => {
          if (waiters.includes(waiter)) fail(`script exited with code ${code}`);
        });
      });
    },
    async finish(timeoutMs = 10_000) {
      child.stdin?.end();
      if (exitCode !== undefined) return exitCode;
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface PyRun {
  code: number | null;
  events: PyEvent[];
  client: PyClient;
}

/** Runs a script to completion (stdin closed at once). */
export async function runPyClient(
  name: string,
  script: string,
  args: readonly string[],
  timeoutMs = 20_000,
): Promise<PyRun> {
  const client = startPyClient(name, script, args);
  const code = await client.finish(timeoutMs);
  return { code, events: client.events, client };
}

/** Common positional arguments: host, port, JID, password. */
export function loginArgs(port: number, jid: string, password: string): string[] {
  return ['127.0.0.1', String(port), jid, password];
}
