// npm run eval:corpus -- FILE [--json]
// Runs the engine's decision path (every inspector and the classifier, with each message's
// context) over a labelled JSONL corpus and prints a confusion matrix of label × action.
// With --json the last line is one JSON object with recall per threat and the ham rates.

import { readCorpus } from '../src/threat/classifier/corpus.ts';
import { confusionTable, summarise } from '../src/threat/engine/corpus-eval.ts';
import { evaluateMessage } from '../src/threat/engine/evaluate.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const verbose = args.includes('--misses');
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  console.error('usage: npm run eval:corpus -- FILE [--json] [--misses]');
  process.exit(2);
}
const items = readCorpus(file);
const outcomes = items.map((item) => {
  const { verdict } = evaluateMessage(item.msg, item.ctx);
  return { item, action: verdict.action, rule: verdict.rule };
});
console.log(confusionTable(outcomes));
if (verbose) {
  for (const o of outcomes) {
    const stopped = o.action === 'hold' || o.action === 'refuse' || o.action === 'quarantine';
    if (stopped !== (o.item.label !== 'ham')) {
      console.log(
        `${o.item.id} ${o.item.label} -> ${o.action} (${o.rule}): ${o.item.msg.text.slice(0, 120)}`,
      );
    }
  }
}
const summary = summarise(outcomes);
if (json) console.log(JSON.stringify(summary));
else console.log(`\n${JSON.stringify(summary, null, 2)}`);
