// The engine's single decision path: every inspector and the classifier look at a message,
// each rule's mode from the policy is applied, and the verdicts are combined. The server's
// message path and the corpus evaluation both call this.

import { classifierInspector } from '../classifier/classifier-inspector.ts';
import { type ClassifierModel, shippedModel } from '../classifier/model.ts';
import { contentGuard } from '../inspectors/content-guard.ts';
import { dlpInspector } from '../inspectors/dlp-inspector.ts';
import { fileOfferInspector } from '../inspectors/file-offer.ts';
import type { InspectContext, InspectMessage, Inspector } from '../inspectors/types.ts';
import { urlInspector } from '../inspectors/url-inspector.ts';
import { combineVerdicts, type Verdict } from '../verdict.ts';
import { DEFAULT_POLICY, modeOf, type ThreatPolicy } from './policy.ts';

export type Evaluation = { verdict: Verdict; verdicts: Verdict[] };
export type EvaluateOptions = { model?: ClassifierModel };

export function inspectorsFor(policy: ThreatPolicy, model: ClassifierModel): Inspector[] {
  return [
    contentGuard(policy.contentGuard),
    urlInspector,
    fileOfferInspector,
    dlpInspector,
    classifierInspector(model, policy),
  ];
}

/** In monitor mode a rule reports what it would have done, and lets the message through. */
export function applyMode(v: Verdict, mode: 'monitor' | 'enforce'): Verdict {
  if (mode === 'enforce' || v.action === 'allow') return v;
  return { ...v, action: 'allow', evidence: { ...v.evidence, monitor: true, wouldBe: v.action } };
}

export function evaluateMessage(
  msg: InspectMessage,
  ctx: InspectContext,
  policy: ThreatPolicy = DEFAULT_POLICY,
  options: EvaluateOptions = {},
): Evaluation {
  const model = options.model ?? shippedModel();
  const verdicts: Verdict[] = [];
  for (const inspector of inspectorsFor(policy, model)) {
    const mode = modeOf(policy, inspector.name);
    if (mode === 'off') continue;
    const v = inspector.inspect(msg, ctx);
    if (v) verdicts.push(applyMode(v, mode));
  }
  return { verdict: combineVerdicts(verdicts), verdicts };
}
