// The fan-out and outbreak detector as a pipeline inspector (rule family `fanout`), and as the
// source of the context's `fanout` that the classifier and the URL rules read.

import type { RuleMode } from '../engine/policy.ts';
import type { FanoutSource } from '../pipeline/fanout.ts';
import type { PipelineInspector } from '../pipeline/inspection.ts';
import { isStopped, type Verdict } from '../verdict.ts';
import { messageParts } from './message-parts.ts';
import type { OutbreakService } from './service.ts';

/**
 * Did the engine's content rules stop this copy? A stranger's message held as a contact
 * request is not evidence against its content: only the recipient's roster decided.
 */
export function stoppedByContent(earlier: readonly Verdict[]): boolean {
  return earlier.some((v) => isStopped(v.action) && !v.rule.startsWith('stranger'));
}

export function outbreakInspector(
  service: OutbreakService,
  mode: () => RuleMode,
): PipelineInspector {
  return {
    name: 'fanout',
    inspect(inspection, earlier) {
      const parts = messageParts(inspection.stanza);
      const empty =
        parts.text === '' &&
        (parts.extraUrls?.length ?? 0) + (parts.sha256?.length ?? 0) === 0 &&
        (parts.fileNames?.length ?? 0) === 0;
      if (empty) return undefined; // chat states, receipts
      return service.judgeCopy(
        {
          sender: inspection.from.bare,
          recipient: inspection.to.bare,
          parts,
          stopped: stoppedByContent(earlier),
        },
        mode() === 'enforce',
      );
    },
  };
}

/** The context's fan-out, counted over the detector's artefacts (links, files, text). */
export function detectorFanout(service: OutbreakService): FanoutSource {
  return {
    note: (sender, text, recipient, now) => service.fanout(sender, recipient, { text }, now),
  };
}
