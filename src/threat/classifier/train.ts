// Trains the logistic-regression classifier: full-batch gradient descent with L2, a fixed
// number of steps and no randomness, so the same corpus always gives the same model.

import type { CorpusItem } from './corpus.ts';
import { extractFeatures, type Features } from './features.ts';
import { type ClassifierModel, sigmoid } from './model.ts';

export type TrainOptions = { l2: number; steps: number; rate: number; minDocFreq: number };
export const DEFAULT_TRAIN: TrainOptions = {
  l2: Number(process.env.RAMPART_L2 ?? 0.002),
  steps: Number(process.env.RAMPART_STEPS ?? 400),
  rate: 0.5,
  minDocFreq: 2,
};

export function featurize(items: readonly CorpusItem[]): Features[] {
  return items.map((it) => extractFeatures(it.msg, it.ctx));
}

/** Fits weights on the given items and their features. */
export function trainModel(
  items: readonly CorpusItem[],
  feats: readonly Features[],
  opts: TrainOptions = DEFAULT_TRAIN,
): Pick<ClassifierModel, 'bias' | 'weights'> {
  const df = new Map<string, number>();
  for (const f of feats) for (const k of f.keys()) df.set(k, (df.get(k) ?? 0) + 1);
  const keep = [...df.keys()]
    .filter((k) =>
      !k.startsWith('c:') && !k.startsWith('w:') ? true : df.get(k)! >= opts.minDocFreq,
    )
    .sort();
  const index = new Map(keep.map((k, i) => [k, i]));
  const rows = feats.map((f) => {
    const idx: number[] = [];
    const val: number[] = [];
    for (const [k, v] of f) {
      const i = index.get(k);
      if (i !== undefined) {
        idx.push(i);
        val.push(v);
      }
    }
    return { idx, val };
  });
  // Ham carries half the total weight and the threat labels share the other half equally,
  // so neither a rare threat label nor the ham/threat balance is drowned out.
  const perClass = new Map<string, number>();
  for (const it of items) perClass.set(it.label, (perClass.get(it.label) ?? 0) + 1);
  const threatClasses = [...perClass.keys()].filter((l) => l !== 'ham').length || 1;
  const sampleWeight = items.map((it) =>
    it.label === 'ham'
      ? items.length / (2 * perClass.get('ham')!)
      : items.length / (2 * threatClasses * perClass.get(it.label)!),
  );
  const y = items.map((it) => (it.label === 'ham' ? 0 : 1));
  const w = new Float64Array(keep.length);
  let b = 0;
  const n = items.length;
  // Adam keeps the step size sensible for both rare n-grams and always-on context features.
  const m = new Float64Array(keep.length);
  const v = new Float64Array(keep.length);
  let mb = 0;
  let vb = 0;
  const g = new Float64Array(keep.length);
  for (let step = 1; step <= opts.steps; step++) {
    g.fill(0);
    let gb = 0;
    for (let r = 0; r < n; r++) {
      const row = rows[r]!;
      let z = b;
      for (let j = 0; j < row.idx.length; j++) z += w[row.idx[j]!]! * row.val[j]!;
      const err = (sigmoid(z) - y[r]!) * sampleWeight[r]!;
      gb += err;
      for (let j = 0; j < row.idx.length; j++) g[row.idx[j]!]! += err * row.val[j]!;
    }
    const lr = opts.rate * 0.05;
    for (let i = 0; i < keep.length; i++) {
      const gi = g[i]! / n + opts.l2 * w[i]!;
      m[i] = 0.9 * m[i]! + 0.1 * gi;
      v[i] = 0.999 * v[i]! + 0.001 * gi * gi;
      const mh = m[i]! / (1 - 0.9 ** step);
      const vh = v[i]! / (1 - 0.999 ** step);
      w[i] = w[i]! - (lr * mh) / (Math.sqrt(vh) + 1e-8);
    }
    const gbn = gb / n;
    mb = 0.9 * mb + 0.1 * gbn;
    vb = 0.999 * vb + 0.001 * gbn * gbn;
    b -= (lr * (mb / (1 - 0.9 ** step))) / (Math.sqrt(vb / (1 - 0.999 ** step)) + 1e-8);
  }
  const weights: Record<string, number> = {};
  for (let i = 0; i < keep.length; i++) {
    const rounded = Math.round(w[i]! * 10000) / 10000;
    if (rounded !== 0) weights[keep[i]!] = rounded;
  }
  return { bias: Math.round(b * 10000) / 10000, weights };
}

/**
 * Thresholds from out-of-fold scores: hold is the lowest score that flags at most
 * `maxHamHeld` of ham, label the lowest that marks at most `maxHamLabelled`.
 */
export function chooseThresholds(
  hamScores: readonly number[],
  maxHamHeld: number,
  maxHamLabelled: number,
): { hold: number; label: number } {
  const sorted = [...hamScores].sort((a, b) => b - a);
  const at = (share: number): number => {
    const allowed = Math.floor(share * sorted.length);
    const s = sorted[allowed] ?? 0;
    return Math.min(0.99, Math.round((s + 1e-4) * 10000) / 10000);
  };
  const hold = Math.max(0.5, at(maxHamHeld));
  return { hold, label: Math.min(hold, Math.max(0.2, at(maxHamLabelled))) };
}
