// The inspection pipeline of the live message path: the engine's decision core
// (evaluateMessage: content guard, URL, file offer, DLP, classifier) followed by every
// inspector added with use() (stranger policy, fan-out and outbreak detection, ...). Each
// rule's mode comes from the policy; the verdicts are combined into one.

import { performance } from 'node:perf_hooks';
import { DurationHistogram } from '../../util/histogram.ts';
import { type ClassifierModel, shippedModel } from '../classifier/model.ts';
import { applyMode, type Evaluation, evaluateMessage } from '../engine/evaluate.ts';
import { modeOf, type ThreatPolicy } from '../engine/policy.ts';
import { combineVerdicts } from '../verdict.ts';
import type { Inspection, PipelineInspector } from './inspection.ts';

export class ThreatPipeline {
  private readonly extensions: PipelineInspector[] = [];
  private readonly model: ClassifierModel;

  constructor(
    private current: ThreatPolicy,
    model?: ClassifierModel,
  ) {
    this.model = model ?? shippedModel();
  }

  get policy(): ThreatPolicy {
    return this.current;
  }

  /** Swaps the policy (reload); messages already being inspected finish under the old one. */
  setPolicy(policy: ThreatPolicy): void {
    this.current = policy;
  }

  /** Adds an inspector after the built-in ones; it runs for every message, in order added. */
  use(inspector: PipelineInspector): void {
    this.extensions.push(inspector);
  }

  /** How long each inspect() took (every inspector and the classifier), in ms. */
  readonly timings = new DurationHistogram();

  async inspect(inspection: Inspection): Promise<Evaluation> {
    const started = performance.now();
    try {
      return await this.evaluate(inspection);
    } finally {
      this.timings.record(performance.now() - started);
    }
  }

  private async evaluate(inspection: Inspection): Promise<Evaluation> {
    const policy = this.current;
    const message =
      inspection.fileName === undefined
        ? { text: inspection.text }
        : { text: inspection.text, fileName: inspection.fileName };
    const core = evaluateMessage(message, inspection.context, policy, { model: this.model });
    const verdicts = [...core.verdicts];
    for (const inspector of this.extensions) {
      const mode = modeOf(policy, inspector.name);
      if (mode === 'off') continue;
      const v = await inspector.inspect(inspection, verdicts);
      if (v) verdicts.push(applyMode(v, mode));
    }
    return { verdict: combineVerdicts(verdicts), verdicts };
  }
}
