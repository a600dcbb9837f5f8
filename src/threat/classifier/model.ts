// A logistic-regression model over named features: small, readable as JSON, and able to
// say which features pushed a score up.

import { readFileSync } from 'node:fs';
import type { Features } from './features.ts';

export type ClassifierModel = {
  version: 1;
  bias: number;
  weights: Record<string, number>;
  /** Score (probability of a threat) at or above which a message is held / labelled. */
  thresholds: { hold: number; label: number };
  meta: Record<string, unknown>;
};

export type Contribution = { feature: string; contribution: number };
export type Score = { score: number; top: Contribution[] };

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

// Looking a feature up in a Map is several times cheaper than in an object of ~10,000 keys.
const weightMaps = new WeakMap<ClassifierModel, Map<string, number>>();

function weightsOf(model: ClassifierModel): Map<string, number> {
  let map = weightMaps.get(model);
  if (map === undefined) {
    map = new Map(Object.entries(model.weights));
    weightMaps.set(model, map);
  }
  return map;
}

export function scoreFeatures(model: ClassifierModel, features: Features, topN = 5): Score {
  const weights = weightsOf(model);
  let z = model.bias;
  // Only what pushed the score up can explain it.
  const raising: Contribution[] = [];
  for (const [name, value] of features) {
    const w = weights.get(name);
    if (w === undefined) continue;
    z += w * value;
    if (w * value > 0) raising.push({ feature: name, contribution: w * value });
  }
  raising.sort((a, b) => b.contribution - a.contribution || a.feature.localeCompare(b.feature));
  const top = raising
    .slice(0, topN)
    .map((c) => ({ feature: c.feature, contribution: Math.round(c.contribution * 1000) / 1000 }));
  return { score: sigmoid(z), top };
}

let shipped: ClassifierModel | undefined;

/** The model trained by scripts/train-classifier.ts and shipped in the repo. */
export function shippedModel(): ClassifierModel {
  shipped ??= JSON.parse(
    readFileSync(new URL('./model.json', import.meta.url), 'utf8'),
  ) as ClassifierModel;
  return shipped;
}
