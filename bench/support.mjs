// Shared by the benchmarks that start their own Rampart (bystander.mjs, engine-overhead.mjs).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Per-session, per-account and per-address limits raised out of the way: every session of a
 * benchmark comes from 127.0.0.1, and it measures the server, not its reading throttles.
 */
export const OPEN_LIMITS = [
  '[limits]',
  'max_connections_per_address = 100000',
  'session_stanzas_per_s = 100000',
  'session_stanza_burst = 100000',
  'session_bytes_per_s = 100000000',
  'session_byte_burst = 100000000',
  'account_stanzas_per_s = 100000',
  'account_stanza_burst = 100000',
  'account_bytes_per_s = 100000000',
  'account_byte_burst = 100000000',
].join('\n');

/** Server CPU seconds so far (utime + stime of /proc/PID/stat). */
export function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Pins a process (all its threads) to one CPU, as the shared bench harness does. */
export function pin(pid, cpu) {
  spawnSync('taskset', ['-apc', String(cpu), String(pid)], { stdio: 'ignore' });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
