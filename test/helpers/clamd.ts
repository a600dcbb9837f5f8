import { type ChildProcess, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './server.ts';

/**
 * A private clamd for tests: our own signature files (test/fixtures/clamav), a generated
 * clamd.conf with a unix socket in a temp dir, no freshclam and nothing downloaded.
 */

export const CLAMD = process.env.RAMPART_TEST_CLAMD ?? '/usr/sbin/clamd';
/** Bytes the test signature Rampart.Test.Marker matches anywhere in a file. */
export const CLAMAV_MARKER = Buffer.from('RAMPART-CLAMAV-TEST-MARKER');
/** The file whose MD5 is Rampart.Test.Hash in rampart-test.hdb. */
export const CLAMAV_HASH_FIXTURE = Buffer.from(
  'rampart clamav hash fixture: a harmless file known by its MD5\n',
);

export function clamdSkipReason(): string | undefined {
  return existsSync(CLAMD)
    ? undefined
    : `${CLAMD} not found: install the Debian package clamav-daemon to run the ClamAV tests`;
}

export interface Clamd {
  socket: string;
  /** Milliseconds from spawn to the first PONG. */
  startMs: number;
  stop(): Promise<void>;
}

/** `extraConf`: more clamd.conf lines (e.g. 'StreamMaxLength 300M' for large files). */
export async function startClamd(extraConf: string[] = [], timeoutMs = 30_000): Promise<Clamd> {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-clamd-'));
  const db = join(dir, 'db');
  mkdirSync(db);
  const sigs = join(repoRoot, 'test', 'fixtures', 'clamav');
  for (const f of readdirSync(sigs)) {
    if (/\.(ndb|hdb|hsb|ldb)$/.test(f)) copyFileSync(join(sigs, f), join(db, f));
  }
  const socket = join(dir, 'clamd.sock');
  const conf = join(dir, 'clamd.conf');
  writeFileSync(
    conf,
    [
      'Foreground yes',
      `LocalSocket ${socket}`,
      `DatabaseDirectory ${db}`,
      `TemporaryDirectory ${dir}`,
      `PidFile ${join(dir, 'clamd.pid')}`,
      'LogTime no',
      'Bytecode no',
      'SelfCheck 0',
      ...extraConf,
      '',
    ].join('\n'),
  );
  const started = Date.now();
  const child: ChildProcess = spawn(CLAMD, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const stop = async () => {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    process.off('exit', reap);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = started + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await ping(socket)) return { socket, startMs: Date.now() - started, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`clamd did not answer PING within ${timeoutMs} ms\n${log}`);
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!existsSync(socket)) {
      resolve(false);
      return;
    }
    const s = connect(socket);
    let reply = '';
    s.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('PONG')) {
        s.destroy();
        resolve(true);
      }
    });
    s.on('error', () => resolve(false));
    s.on('close', () => resolve(reply.includes('PONG')));
    s.on('connect', () => s.write('zPING\0'));
  });
}
