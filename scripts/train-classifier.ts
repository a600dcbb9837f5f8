// npm run train:classifier [-- CORPUS]
// Trains the classifier on the corpus, chooses its thresholds from 5-fold out-of-fold
// scores (at most 0.5% of ham held, 5% labelled), prints 5-fold cross-validated figures for
// the whole engine, and writes src/threat/classifier/model.json (deterministic output).

import { writeFileSync } from 'node:fs';
import { type CorpusItem, foldOf, readCorpus } from '../src/threat/classifier/corpus.ts';
import { type ClassifierModel, scoreFeatures } from '../src/threat/classifier/model.ts';
import { chooseThresholds, featurize, trainModel } from '../src/threat/classifier/train.ts';
import { confusionTable, type Outcome, summarise } from '../src/threat/engine/corpus-eval.ts';
import { evaluateMessage } from '../src/threat/engine/evaluate.ts';

const K = 5;
const MAX_HAM_HELD = 0.008;
const MAX_HAM_LABELLED = 0.05;
const corpusPath = process.argv[2] ?? '/work/shared/corpus/messages.dev.jsonl';
const items = readCorpus(corpusPath);
const feats = featurize(items);

function fit(idx: readonly number[]): Pick<ClassifierModel, 'bias' | 'weights'> {
  return trainModel(
    idx.map((i) => items[i]!),
    idx.map((i) => feats[i]!),
  );
}

// Out-of-fold scores: every item scored by a model that never saw it.
const folds = items.map((it) => foldOf(it.id, K));
const oof = new Array<number>(items.length).fill(0);
const foldModels: ClassifierModel[] = [];
for (let k = 0; k < K; k++) {
  const train = items.flatMap((_, i) => (folds[i] !== k ? [i] : []));
  const m: ClassifierModel = {
    version: 1,
    ...fit(train),
    thresholds: { hold: 1, label: 1 },
    meta: {},
  };
  foldModels.push(m);
  items.forEach((_, i) => {
    if (folds[i] === k) oof[i] = scoreFeatures(m, feats[i]!).score;
  });
}
const thresholds = chooseThresholds(
  oof.filter((_, i) => items[i]!.label === 'ham'),
  MAX_HAM_HELD,
  MAX_HAM_LABELLED,
);

// Cross-validated figures for the whole engine: each fold judged with its fold's model.
const outcomes: Outcome[] = items.map((item: CorpusItem, i) => {
  const model = { ...foldModels[folds[i]!]!, thresholds };
  return { item, action: evaluateMessage(item.msg, item.ctx, undefined, { model }).verdict.action };
});
console.log(
  `${K}-fold cross-validated engine figures (thresholds hold=${thresholds.hold} label=${thresholds.label}):`,
);
console.log(confusionTable(outcomes));
console.log(JSON.stringify(summarise(outcomes)));

// A harsher estimate: folds by the corpus's note, so whole message templates (a kind of lure,
// a scam theme, a beacon format) are unseen by the model that judges them.
const groups = items.map((it) => foldOf(it.note ?? it.id, K));
const groupModels = Array.from({ length: K }, (_, k) => {
  const train = items.flatMap((_, i) => (groups[i] !== k ? [i] : []));
  return { version: 1 as const, ...fit(train), thresholds, meta: {} };
});
const grouped: Outcome[] = items.map((item, i) => ({
  item,
  action: evaluateMessage(item.msg, item.ctx, undefined, { model: groupModels[groups[i]!]! })
    .verdict.action,
}));
console.log(`\n${K}-fold cross-validated, folds by note (unseen templates):`);
console.log(confusionTable(grouped));
console.log(JSON.stringify(summarise(grouped)));

const full = fit(items.map((_, i) => i));
const sortedWeights = Object.fromEntries(
  Object.entries(full.weights).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
);
const model: ClassifierModel = {
  version: 1,
  bias: full.bias,
  weights: sortedWeights,
  thresholds,
  meta: {
    trainedOn: corpusPath.split('/').pop(),
    examples: items.length,
    folds: K,
    maxHamHeld: MAX_HAM_HELD,
    maxHamLabelled: MAX_HAM_LABELLED,
    features: Object.keys(sortedWeights).length,
  },
};
const out = new URL('../src/threat/classifier/model.json', import.meta.url);
// One weight per line keeps diffs of a retrained model readable.
const weightLines = Object.entries(sortedWeights).map(([k, v]) => `    ${JSON.stringify(k)}: ${v}`);
const head = JSON.stringify(
  { version: 1, bias: model.bias, thresholds, meta: model.meta },
  null,
  2,
);
writeFileSync(out, `${head.slice(0, -2)},\n  "weights": {\n${weightLines.join(',\n')}\n  }\n}\n`);
console.log(`wrote ${out.pathname} (${model.meta.features} features)`);
