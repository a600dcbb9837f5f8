#!/usr/bin/env node
// `npm run bench [-- options]`: runs the shared XMPP load tool's scenarios (login storm, steady
// chat, saturation, idle connections) against Rampart, started through its command line by
// ../shared/bench/anchors/rampart.sh with bench/config.toml. Each measurement gets a fresh server.
//
//   --compare        also measure Prosody and ejabberd, interleaved, in the same run
//   --quick          small sizes (a smoke test of a few minutes)
//   --reps N         repetitions (default 1)
//   --phases "..."   default "login chat saturate idle ws"; `ws` is steady chat over WebSocket
//                    and, for comparison, TCP, both with the same client (bench/ws-chat.mjs)
//   --out DIR        results directory (default /tmp/bench-results/<time>)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '..');
const shared = process.env.RAMPART_SHARED_BENCH ?? resolve(repo, '..', 'shared', 'bench');
const script = join(shared, 'run-comparison.sh');

let opts;
try {
  opts = parseArgs({
    options: {
      compare: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      reps: { type: 'string', default: '1' },
      phases: { type: 'string', default: 'login chat saturate idle ws' },
      out: { type: 'string' },
    },
  }).values;
} catch (err) {
  console.error(`bench: ${err.message}`);
  process.exit(2);
}

const phases = opts.phases.split(/\s+/).filter(Boolean);
const sharedPhases = phases.filter((p) => p !== 'ws');
if (sharedPhases.length > 0) {
  if (!existsSync(script)) {
    console.error(
      `bench: ${script} not found (set RAMPART_SHARED_BENCH to the shared bench folder)`,
    );
    process.exit(2);
  }
  const args = [
    script,
    '--servers',
    opts.compare ? 'rampart prosody ejabberd' : 'rampart',
    '--reps',
    opts.reps,
    '--phases',
    sharedPhases.join(' '),
  ];
  if (opts.quick) args.push('--quick');
  if (opts.out) args.push('--out', opts.out);
  const run = spawnSync('bash', args, {
    stdio: 'inherit',
    env: { ...process.env, RAMPART_DIR: repo },
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
if (phases.includes('ws')) {
  const args = [join(repo, 'bench', 'ws-chat.mjs'), '--reps', opts.reps];
  if (opts.quick) args.push('--pairs', '25', '--rate', '500', '--duration', '10');
  if (opts.out) args.push('--out', join(opts.out, 'ws-chat.jsonl'));
  const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
