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

export function scoreFeatures(model: ClassifierModel, features: Features, topN = 5): Score {
  let z = model.bias;
  const contributions: Contribution[] = [];
  for (const [name, value] of features) {
    const w = model.weights[name];
    if (w === undefined) continue;
    z += w * value;
    contributions.push({ feature: name, contribution: w * value });
  }
  contributions.sort(
    (a, b) => b.contribution - a.contribution || a.feature.localeCompare(b.feature),
  );
  const top = contributions
    .slice(0, topN)
    .filter((c) => c.contribution > 0)
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
