import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliRun, rampart } from './cli.ts';

/**
 * Starts the real `rampart` command (bin/rampart.mjs) on free ports and a throw-away data
 * directory, the way an administrator or a benchmark would, so tests exercise the CLI
 * contract and the full server rather than internal objects.
 */

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(repoRoot, 'bin', 'rampart.mjs');

export interface Ports {
  c2s: number;
  c2sTls: number;
  https: number;
}

export type CliResult = CliRun;

export interface RampartProcess {
  ports: Ports;
  dataDir: string;
  domain: string;
  /** Pid of the serving process (from the pid file when it is written). */
  pid: number;
  /** Everything the server printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Runs `rampart ARGS --data-dir DIR [--config FILE]`; does not throw on failure. */
  cli(args: readonly string[], stdin?: string): Promise<CliResult>;
  /** `rampart user add LOCALPART@DOMAIN --password-stdin`; throws unless exit code 0. */
  addUser(localpart: string, password: string): Promise<void>;
  /** `rampart user import -` of LOCALPART@DOMAIN accounts sharing one password. */
  importUsers(localparts: readonly string[], password: string): Promise<void>;
  /** `rampart roster add A@DOMAIN B@DOMAIN` (mutual `both`); throws unless exit code 0. */
  addContacts(a: string, b: string): Promise<void>;
  /** SIGTERM, waits for exit, asserts exit code 0, removes the data directory. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra TOML appended to the test defaults (e.g. a `[limits]` table). */
  config?: string;
  /** Replaces the default `[auth]` table when the test needs its own. */
  authTable?: string;
  startTimeoutMs?: number;
  /** Serve this data directory (a restart of an earlier server); it is kept on stop. */
  dataDir?: string;
}

/** Fast PBKDF2 for tests; the schema's minimum. */
const DEFAULT_AUTH = '[auth]\nscram_iterations = 4096\n';

export async function startRampart(opts: StartOptions = {}): Promise<RampartProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'rampart-test-'));
  const removeDataDir = () => {
    if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  const domain = 'localhost';
  const ports = await freePorts();
  const configFile = join(dataDir, 'rampart.toml');
  writeFileSync(configFile, `${opts.authTable ?? DEFAULT_AUTH}\n${opts.config ?? ''}\n`);
  const common = ['--data-dir', dataDir, '--config', configFile];
  const pidFile = join(dataDir, 'pid');

  const child = spawn(
    process.execPath,
    [
      bin,
      'start',
      ...common,
      '--domain',
      domain,
      '--bind',
      '127.0.0.1',
      '--c2s-port',
      String(ports.c2s),
      '--c2s-tls-port',
      String(ports.c2sTls),
      '--https-port',
      String(ports.https),
      '--pid-file',
      pidFile,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout?.on('data', (d: Buffer) => {
    log += d.toString('utf8');
  });
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // A test process that dies without stop() must not leave a server behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  void exited.then(() => process.off('exit', reap));

  try {
    await waitForHealth(ports.https, exited, opts.startTimeoutMs ?? 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    removeDataDir();
    throw new Error(
      `rampart did not become healthy: ${(err as Error).message}\n--- output ---\n${log}`,
    );
  }

  const cli = (args: readonly string[], stdin?: string) => runCli([...args, ...common], stdin);
  const pidFromFile = existsSync(pidFile)
    ? Number.parseInt(readFileSync(pidFile, 'utf8'), 10)
    : NaN;
  let stopped = false;

  return {
    ports,
    dataDir,
    domain,
    pid: Number.isInteger(pidFromFile) ? pidFromFile : (child.pid ?? -1),
    output: () => log,
    cli,
    async addUser(localpart, password) {
      const r = await cli(['user', 'add', `${localpart}@${domain}`, '--password-stdin'], password);
      assert.equal(r.code, 0, `user add ${localpart} failed: ${r.stderr}${r.stdout}`);
    },
    async importUsers(localparts, password) {
      const csv = localparts.map((u) => `${u}@${domain},${password}`).join('\n');
      const r = await cli(['user', 'import', '-'], csv);
      assert.equal(r.code, 0, `user import failed: ${r.stderr}${r.stdout}`);
    },
    async addContacts(a, b) {
      const r = await cli(['roster', 'add', `${a}@${domain}`, `${b}@${domain}`]);
      assert.equal(r.code, 0, `roster add ${a} ${b} failed: ${r.stderr}${r.stdout}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const { code, signal } = await exited;
      clearTimeout(timer);
      removeDataDir();
      assert.equal(
        code,
        0,
        `rampart exited with code ${code} signal ${signal} after SIGTERM\n--- output ---\n${log}`,
      );
    },
  };
}

/** Runs the CLI once, feeding `stdin` (written as-is, then closed), from the repo root. */
export function runCli(args: readonly string[], stdin?: string): Promise<CliResult> {
  return rampart(args, stdin === undefined ? { cwd: repoRoot } : { cwd: repoRoot, stdin });
}

/** Holds three listeners on port 0 at once so the kernel hands out three distinct ports. */
async function freePorts(): Promise<Ports> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', resolve);
    });
    servers.push(srv);
    const addr = srv.address();
    assert.ok(addr && typeof addr === 'object');
    ports.push(addr.port);
  }
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  const [c2s, c2sTls, https] = ports as [number, number, number];
  return { c2s, c2sTls, https };
}

function healthStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/healthz', method: 'GET', rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.setTimeout(2000, () => req.destroy());
    req.once('error', () => resolve(0));
    req.end();
  });
}

async function waitForHealth(
  port: number,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  timeoutMs: number,
): Promise<void> {
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => {
    exit = e;
  });
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    if (exit) throw new Error(`exited early (code ${exit.code}, signal ${exit.signal})`);
    last = await healthStatus(port);
    if (last === 200) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`GET /healthz did not answer 200 within ${timeoutMs} ms (last status ${last})`);
}

/**
 * Runs `fn`; if it throws, prints the server's output first so the failure can be read
 * next to what the server logged.
 */
export async function withServerLog<T>(server: RampartProcess, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    process.stderr.write(`\n--- rampart output ---\n${server.output()}\n--- end ---\n`);
    throw err;
  }
}
