// T1 (and a second opinion on T2/T3): the trained model's score, with the features that
// raised it, as a verdict. It holds above the model's hold threshold and labels above its
// label threshold; the policy may override both.

import type { ThreatPolicy } from '../engine/policy.ts';
import { type Inspector, verdict } from '../inspectors/types.ts';
import type { ThreatId, Verdict } from '../verdict.ts';
import { extractFeatures } from './features.ts';
import { type ClassifierModel, scoreFeatures } from './model.ts';

function threatOf(top: readonly { feature: string }[]): ThreatId {
  const first = top.find(
    (c) =>
      c.feature.startsWith('dlp:') || c.feature.startsWith('url:') || c.feature.startsWith('file:'),
  );
  if (first?.feature.startsWith('dlp:')) return 'T3';
  if (first) return 'T2';
  return 'T1';
}

function describe(feature: string): string {
  const [kind, rest = ''] = feature.split(/:(.*)/s);
  if (kind === 'c' || kind === 'w') return `"${rest.trim()}"`;
  return rest.length > 0 ? `${kind} ${rest}` : feature;
}

export function classifierInspector(model: ClassifierModel, policy: ThreatPolicy): Inspector {
  const hold = policy.classifier?.hold ?? model.thresholds.hold;
  const label = policy.classifier?.label ?? model.thresholds.label;
  return {
    name: 'classifier',
    threat: 'T1',
    inspect(msg, ctx): Verdict | undefined {
      const { score, top } = scoreFeatures(model, extractFeatures(msg, ctx));
      if (score < label) return undefined;
      const action = score >= hold ? 'hold' : 'label';
      const why = top
        .slice(0, 3)
        .map((c) => describe(c.feature))
        .join(', ');
      const v = verdict(
        action,
        threatOf(top),
        'classifier',
        `This looks like spam or a scam (score ${score.toFixed(2)}; signs: ${why}).`,
        { score, top, thresholds: { hold, label } },
      );
      v.score = score;
      return v;
    },
  };
}
