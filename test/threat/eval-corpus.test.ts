import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readCorpus } from '../../src/threat/classifier/corpus.ts';
import { summarise } from '../../src/threat/engine/corpus-eval.ts';
import { evaluateMessage } from '../../src/threat/engine/evaluate.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/tiny-corpus.jsonl', import.meta.url));

test('eval-corpus --json ends with one summary object of the documented shape', () => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/eval-corpus.ts', fixture, '--json'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /label/);
  const summary = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(summary), ['n', 'recall', 'ham_flagged', 'ham_labelled']);
  assert.equal(summary.n, 6);
  const recall = summary.recall as Record<string, number>;
  assert.deepEqual(Object.keys(recall), ['spim', 'phish', 'worm', 'beacon']);
  for (const v of Object.values(recall)) assert.ok(v >= 0 && v <= 1);
  assert.equal(recall.worm, 1);
  assert.equal(recall.beacon, 1);
  assert.equal(summary.ham_flagged, 0);
  assert.equal(typeof summary.ham_labelled, 'number');
});

test('eval-corpus without a file explains its usage', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/eval-corpus.ts'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage/);
});

test('held-out style variants (new wordings, tricky ham) are caught without tuning to them', () => {
  // Written for red-teaming, never used in training: new spim, phish, worm and beacon wordings
  // in five languages, and hard ham (IT announcements, internal hosts and ports, code).
  const items = readCorpus(
    fileURLToPath(new URL('./fixtures/redteam-variants.jsonl', import.meta.url)),
  );
  const outcomes = items.map((item) => ({
    item,
    action: evaluateMessage(item.msg, item.ctx).verdict.action,
  }));
  const summary = summarise(outcomes);
  for (const [label, r] of Object.entries(summary.recall)) assert.equal(r, 1, label);
  // Two known hard cases stay held: an IT broadcast asking 300 people to change their
  // password, and security staff naming a look-alike domain as "paypa1-security dot com".
  assert.ok(summary.ham_flagged <= 2 / 18, JSON.stringify(summary));
});
