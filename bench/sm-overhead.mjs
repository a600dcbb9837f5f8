#!/usr/bin/env node
// What XEP-0198 acks cost: the shared load tool's saturate ramp and steady chat against Rampart,
// each run twice per repetition on a freshly started server: once as the tool is, once with
// every client enabling stream management (bench/sm-client.mjs: answers the server's <r/>,
// asks for an ack every SM_ACK_EVERY stanzas). Same server, same config, interleaved order.
//
//   node bench/sm-overhead.mjs [--reps 2] [--quick] [--every 5] [--phases "saturate chat"] [--out DIR]
//
// Server on CPU 1, load on CPU 0 (like ../shared/bench/run-comparison.sh), started through
// ../shared/bench/anchors/rampart.sh with bench/config.toml. Results: DIR/results.jsonl (one
// line per run, with the sm-client totals) and DIR/summary.md.
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '..');
const shared = process.env.RAMPART_SHARED_BENCH ?? resolve(repo, '..', 'shared', 'bench');
const anchor = join(shared, 'anchors', 'rampart.sh');
const load = join(shared, 'xmpp-load.mjs');
if (!existsSync(anchor) || !existsSync(load)) {
  console.error(`sm-overhead: ${shared} has no anchors/rampart.sh or xmpp-load.mjs`);
  process.exit(2);
}

const opts = parseArgs({
  options: {
    reps: { type: 'string', default: '2' },
    quick: { type: 'boolean', default: false },
    every: { type: 'string', default: '5' },
    phases: { type: 'string', default: 'saturate chat' },
    'ramp-start': { type: 'string' },
    out: { type: 'string' },
  },
}).values;

const q = opts.quick;
const USERS = q ? 100 : 1000;
// A finer ramp than the shared harness (×1.1, not ×1.25), started near Rampart's known
// saturation, so a 10 % difference shows up as steps rather than hiding inside one.
const SATURATE = [
  '--scenario',
  'saturate',
  '--users',
  String(USERS),
  '--ramp-start',
  opts['ramp-start'] ?? (q ? '2000' : '9000'),
  '--ramp-factor',
  '1.1',
  '--ramp-step-s',
  q ? '3' : '6',
];
const CHAT = [
  '--scenario',
  'chat',
  '--users',
  String(USERS),
  '--rate',
  q ? '500' : '1000',
  '--duration',
  q ? '5' : '30',
];
const out = opts.out ?? `/tmp/bench-results/sm-${new Date().toISOString().replace(/[:.]/g, '-')}`;
mkdirSync(out, { recursive: true });
const results = join(out, 'results.jsonl');
const env = { ...process.env, RAMPART_DIR: repo, SERVER_CPU: '1', SM_ACK_EVERY: opts.every };

const say = (msg) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
// The server started in the background keeps whatever stdout it inherits open: a log file, not
// a pipe spawnSync would wait on forever.
const anchorLog = openSync(join(out, 'anchor.log'), 'a');
const sh = (args) =>
  spawnSync('bash', [anchor, ...args], { env, stdio: ['ignore', anchorLog, anchorLog] });
const pidfile = spawnSync('bash', [anchor, 'pidfile'], { env, encoding: 'utf8' }).stdout.trim();

function loadTool(extraNode, args) {
  return spawnSync(
    'taskset',
    [
      '-c',
      '0',
      process.execPath,
      ...extraNode,
      load,
      '--port',
      '18222',
      '--server-pidfile',
      pidfile,
      '--max-time-s',
      '300',
      '--quiet',
      ...args,
    ],
    { env, encoding: 'utf8', timeout: 330_000 },
  );
}

function runOne(phase, sm) {
  const args = phase === 'saturate' ? SATURATE : CHAT;
  sh(['start', 'bench']);
  spawnSync('sleep', ['2']);
  const label = `rampart|sm=${sm ? 'on' : 'off'}|${phase}`;
  say(`run ${label}`);
  const r = loadTool(sm ? ['--import', join(repo, 'bench', 'sm-client.mjs')] : [], [
    '--label',
    label,
    ...args,
  ]);
  sh(['stop']);
  const line = r.stdout.trim().split('\n').pop() ?? '{}';
  let result;
  try {
    result = JSON.parse(line);
  } catch {
    result = { label, error: `no result: ${r.stderr.slice(-500)}` };
  }
  const smLine = /sm-client: (.*)/.exec(r.stderr ?? '');
  result.sm = sm;
  if (smLine) result.sm_client = JSON.parse(smLine[1]);
  appendFileSync(results, `${JSON.stringify(result)}\n`);
  say(`  ${summaryOf(result)}`);
  return result;
}

function summaryOf(r) {
  if (r.error) return `error: ${r.error}`;
  if (r.scenario === 'saturate')
    return `max sustained ${r.max_sustained_rate} msg/s (p99 ${r.max_sustained_p99_ms} ms), p99≤100ms ${r.max_rate_p99_le_100ms}, stream errors ${r.stream_errors}, sm ${JSON.stringify(r.sm_client ?? null)}`;
  return `lost ${r.lost}, p99 ${r.latency_ms?.p99} ms, server CPU ${r.server_cpu_s_per_1000_msgs} s/1000 msgs, stream errors ${r.stream_errors}, sm ${JSON.stringify(r.sm_client ?? null)}`;
}

// Accounts, and one unmeasured login pass (fills the tool's SCRAM cache, warms the database).
sh(['stop']);
sh(['start', 'bench']);
sh(['users', String(USERS)]);
loadTool(
  [],
  ['--users', String(USERS), '--concurrency', '200', '--warmup', '0', '--settle-s', '0'],
);
sh(['stop']);

const all = [];
for (let rep = 1; rep <= Number(opts.reps); rep++) {
  const order = rep % 2 === 1 ? [false, true] : [true, false];
  for (const phase of opts.phases.split(/\s+/).filter(Boolean))
    for (const sm of order) all.push(runOne(phase, sm));
}

// Server CPU per message at each ramp step both variants passed: the direct cost of acks.
function cpuAtSteps(runs) {
  const byRate = new Map();
  for (const r of runs)
    for (const s of r.steps ?? [])
      if (s.pass)
        byRate.set(s.rate_target, [
          ...(byRate.get(s.rate_target) ?? []),
          s.server_cpu_s_per_1000_msgs,
        ]);
  return byRate;
}
const median = (xs) => {
  const s = [...xs].filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return Math.round(m * 10_000) / 10_000;
};
const pick = (phase, sm) => all.filter((r) => r.scenario === phase && r.sm === sm && !r.error);
const lines = [
  `# Stream management overhead, ${new Date().toISOString()}`,
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}.`,
  `Command: node bench/sm-overhead.mjs --reps ${opts.reps}${q ? ' --quick' : ''} --every ${opts.every} --phases "${opts.phases}"`,
  '',
  '| metric | SM off | SM on | change |',
  '|---|---|---|---|',
];
const row = (name, off, on) => {
  const change = off && on ? `${(((on - off) / off) * 100).toFixed(1)} %` : '';
  lines.push(`| ${name} | ${off ?? ''} | ${on ?? ''} | ${change} |`);
};
if (opts.phases.includes('saturate')) {
  const off = pick('saturate', false);
  const on = pick('saturate', true);
  row(
    'saturate: max sustained msg/s (median)',
    median(off.map((r) => r.max_sustained_rate)),
    median(on.map((r) => r.max_sustained_rate)),
  );
  row(
    'saturate: max msg/s with p99 ≤ 100 ms (median)',
    median(off.map((r) => r.max_rate_p99_le_100ms)),
    median(on.map((r) => r.max_rate_p99_le_100ms)),
  );
  const cOff = cpuAtSteps(off);
  const cOn = cpuAtSteps(on);
  for (const rate of [...cOff.keys()].filter((k) => cOn.has(k)).sort((a, b) => a - b))
    row(
      `saturate: server CPU s per 1000 msgs at ${rate} msg/s`,
      median(cOff.get(rate)),
      median(cOn.get(rate)),
    );
}
if (opts.phases.includes('chat')) {
  const off = pick('chat', false);
  const on = pick('chat', true);
  row(
    'chat: server CPU s per 1000 msgs',
    median(off.map((r) => r.server_cpu_s_per_1000_msgs)),
    median(on.map((r) => r.server_cpu_s_per_1000_msgs)),
  );
  row(
    'chat: p99 latency ms',
    median(off.map((r) => r.latency_ms?.p99)),
    median(on.map((r) => r.latency_ms?.p99)),
  );
  row('chat: lost', median(off.map((r) => r.lost)), median(on.map((r) => r.lost)));
}
lines.push('', 'Runs:', '', ...all.map((r) => `- ${r.label}: ${summaryOf(r)}`));
writeFileSync(join(out, 'summary.md'), `${lines.join('\n')}\n`);
console.log(readFileSync(join(out, 'summary.md'), 'utf8'));
