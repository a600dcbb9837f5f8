// npm run simulate:outbreak [-- options]
// A worm outbreak on one Rampart with real XMPP sessions: N users (default 500) with 20-60
// contacts each in a Watts-Strogatz small-world graph, mutual subscriptions made in bulk through
// the admin operations. Patient zero sends a lure to all contacts; a recipient who receives it
// clicks with probability p (default 0.3) and, after a random delay, sends it on to all of its
// contacts with fresh wording. Runs once with the threat engine enforcing and once with it off,
// prints infected users over time and writes docs/outbreak-simulation.{svg,md}.
//
//   --users N  --k MEAN_CONTACTS  --beta REWIRING  --p CLICK  --seed S
//   --lure lookalike|plain   --modes "on off"   --max-seconds S   --no-write

import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configSchema } from '../src/config/schema.ts';
import { repoRoot } from '../test/helpers/server.ts';
import type { LureKind } from './outbreak/lures.ts';
import { type SimResult, simulate } from './outbreak/run.ts';
import { lineChart } from './outbreak/svg-chart.ts';

const { values: opt } = parseArgs({
  options: {
    users: { type: 'string', default: '500' },
    k: { type: 'string', default: '40' },
    beta: { type: 'string', default: '0.2' },
    p: { type: 'string', default: '0.3' },
    seed: { type: 'string', default: '7' },
    lure: { type: 'string', default: 'lookalike' },
    modes: { type: 'string', default: 'on off' },
    'max-seconds': { type: 'string', default: '90' },
    'no-write': { type: 'boolean', default: false },
  },
});

type Mode = 'on' | 'off';
const modes = (opt.modes ?? '').split(/\s+/).filter((m): m is Mode => m === 'on' || m === 'off');
const lureKind = opt.lure as LureKind;
if (lureKind !== 'lookalike' && lureKind !== 'plain') throw new Error('--lure lookalike|plain');

// The engine is switched by the config's policy section, when this build has one.
const hasPolicy = 'policy' in configSchema.shape;
const ENGINE_CONFIG: Record<Mode, string> = {
  on: hasPolicy ? '[policy]\ndefault_mode = "enforce"\n' : '',
  off: hasPolicy ? '[policy]\ndefault_mode = "off"\n' : '',
};
// One address (127.0.0.1) carries every session; the flood shield keeps its defaults.
const LIMITS = [
  '[limits]',
  'max_connections_per_address = 100000',
  'unauthenticated_timeout_s = 120',
].join('\n');

const log = (line: string) => console.log(line);
const results = new Map<Mode, SimResult>();
for (const mode of modes) {
  log(
    `\n== engine ${mode}${hasPolicy ? '' : ' (this build has no [policy] section: engine not wired)'} ==`,
  );
  const r = await simulate({
    users: Number(opt.users),
    k: Number(opt.k),
    beta: Number(opt.beta),
    clickProbability: Number(opt.p),
    delayMs: [1000, 4000],
    seed: Number(opt.seed),
    lureKind,
    config: `${LIMITS}\n${ENGINE_CONFIG[mode]}`,
    maxSeconds: Number(opt['max-seconds']),
    quietSeconds: 5,
    log,
  });
  results.set(mode, r);
  log('  t (s)  infected');
  let next = 0;
  for (const [t, n] of r.timeline) {
    if (t + 1e-9 < next) continue;
    log(`  ${t.toFixed(0).padStart(5)}  ${String(n).padStart(5)}`);
    next = Math.floor(t) + 2;
  }
  log(summaryLine(mode, r));
  log(`  security events: ${JSON.stringify(r.events)}`);
}

function pct(n: number, of: number): string {
  return `${((100 * n) / of).toFixed(1)} %`;
}

function summaryLine(mode: Mode, r: SimResult): string {
  return (
    `  engine ${mode}: ${r.infected}/${r.users} infected (${pct(r.infected, r.users)}); ` +
    `lures sent ${r.lureSent}, delivered ${r.lureDelivered} (labelled ${r.lureLabelled}), ` +
    `errors to senders ${r.errorsToSenders}, server notices ${r.serverNotices}, ` +
    `sessions closed by the server ${r.sessionsClosedByServer}; ${r.seconds.toFixed(0)} s ` +
    `(setup ${r.setupSeconds.toFixed(0)} s)`
  );
}

if (!opt['no-write'] && results.size > 0) {
  const users = Number(opt.users);
  const colours: Record<Mode, string> = { on: '#1a7f37', off: '#cf222e' };
  const svg = lineChart(
    [...results].map(([mode, r]) => ({
      label: `engine ${mode}: ${r.infected} infected (${pct(r.infected, r.users)})`,
      colour: colours[mode],
      points: r.timeline,
    })),
    {
      title: `Worm outbreak on ${users} real sessions (click probability ${opt.p})`,
      xLabel: 'seconds since patient zero sent the lure',
      yLabel: 'infected users',
      yMax: users,
      threshold: { value: users * 0.02, label: 'target: at most 2 %' },
    },
  );
  writeFileSync(join(repoRoot, 'docs', 'outbreak-simulation.svg'), svg);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const rows = [...results].map(
    ([mode, r]) =>
      `| ${mode} | ${r.infected} (${pct(r.infected, r.users)}) | ${r.lureSent} | ${r.lureDelivered} | ${r.lureLabelled} | ${r.errorsToSenders} | ${r.serverNotices} | ${r.sessionsClosedByServer} | ${r.seconds.toFixed(0)} |`,
  );
  const first = [...results.values()][0]!;
  const md = [
    '# Outbreak simulation',
    '',
    `Generated by \`npm run simulate:outbreak${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`` +
      ` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC` +
      ` (${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}).`,
    '',
    `${users} accounts, each a real XMPP session (TCP, STARTTLS, SCRAM) on one Rampart; contacts`,
    `in a Watts-Strogatz small-world graph (k = ${opt.k}, rewiring ${opt.beta}; ${first.degree.min}-${first.degree.max}`,
    `contacts per user, mean ${first.degree.mean.toFixed(1)}), mutual subscriptions. Patient zero`,
    `sends a lure (${lureKind === 'lookalike' ? 'an executable or archive on the look-alike host `dr0pbox.com`' : 'a page on `share-moments.net`'})`,
    `to all contacts; a recipient clicks with probability ${opt.p} and 1-4 s later sends it on to`,
    'all of its contacts with fresh wording and a fresh URL path and query. A run ends 5 s after the',
    'last send or arrival.',
    '',
    '![infected users over time](outbreak-simulation.svg)',
    '',
    '| engine | infected | lures sent | delivered | labelled | errors to senders | server notices | sessions ended by the server | seconds |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Security events recorded during each run (threat, rule, verdict: count):',
    '',
    ...[...results].map(
      ([mode, r]) =>
        `- engine ${mode}: ${
          Object.entries(r.events)
            .map(([k, n]) => `${k}: ${n}`)
            .join('; ') || 'none'
        }`,
    ),
    '',
    hasPolicy
      ? ''
      : '**This build has no `[policy]` section: the engine is not in the message path, so both runs are the same.**',
    '',
  ].join('\n');
  writeFileSync(join(repoRoot, 'docs', 'outbreak-simulation.md'), md);
  log('\nwrote docs/outbreak-simulation.svg and docs/outbreak-simulation.md');
}
