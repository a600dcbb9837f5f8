// npm run bench:inspection [-- FILE]
// Per-message cost of the engine's decision core (content guard, URL, file offer, DLP and the
// classifier: evaluateMessage, as the live pipeline calls it) over a corpus in the shared
// format (default: the shared dev corpus), in this process: wall time per message (median,
// p99) and CPU time per message (process.cpuUsage over the whole run, which preemption by other
// work on the machine does not inflate). The corpus's contexts say nothing of conversations, so
// every message counts as the first of one; a second pass marks them all as part of an ongoing
// conversation, as most live traffic is, where the classifier only looks at what needs it.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readCorpus } from '../src/threat/classifier/corpus.ts';
import { evaluateMessage } from '../src/threat/engine/evaluate.ts';
import { DurationHistogram } from '../src/util/histogram.ts';
import { repoRoot } from '../test/helpers/server.ts';

const file =
  process.argv[2] ??
  [
    resolve(repoRoot, '..', 'shared', 'corpus', 'messages.dev.jsonl'),
    resolve(repoRoot, '..', '..', 'shared', 'corpus', 'messages.dev.jsonl'),
  ].find((p) => existsSync(p));
if (!file) throw new Error('usage: npm run bench:inspection -- CORPUS.jsonl');
const items = readCorpus(file);
const ROUNDS = 10;

// Warm-up: the model is loaded and the code optimised before anything is measured.
for (const item of items) evaluateMessage(item.msg, item.ctx);

function measure(ongoing: boolean): void {
  const all = new DurationHistogram();
  const byLabel = new Map<string, DurationHistogram>();
  const cpu0 = process.cpuUsage();
  for (let round = 0; round < ROUNDS; round++) {
    for (const item of items) {
      const ctx = ongoing ? { ...item.ctx, firstInConversation: false } : item.ctx;
      const started = performance.now();
      evaluateMessage(item.msg, ctx);
      const ms = performance.now() - started;
      all.record(ms);
      const h = byLabel.get(item.label) ?? new DurationHistogram();
      byLabel.set(item.label, h);
      h.record(ms);
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerMessage = (cpu.user + cpu.system) / 1000 / all.count;
  console.log(
    `${items.length} messages × ${ROUNDS} rounds from ${file}, ${ongoing ? 'as ongoing conversations' : 'each first in its conversation'}`,
  );
  console.log('label    n      p50 ms  p99 ms  max ms');
  for (const [label, h] of [...byLabel, ['all', all] as const]) {
    const s = h.summary();
    console.log(
      `${label.padEnd(7)} ${String(s.count).padStart(6)}  ${s.p50.toFixed(3).padStart(6)}  ${s.p99.toFixed(3).padStart(6)}  ${s.max.toFixed(1).padStart(6)}`,
    );
  }
  console.log(`CPU time per message: ${cpuMsPerMessage.toFixed(3)} ms (mean)\n`);
}

measure(false);
measure(true);
