// T1 (and a second opinion on T2/T3): the trained model's score, with the features that
// raised it, as a verdict. It holds above the model's hold threshold and labels above its
// label threshold; the policy may override both.

import type { ThreatPolicy } from '../engine/policy.ts';
import { anyDlpSignal, dlpSignals } from '../inspectors/dlp-signals.ts';
import {
  type InspectContext,
  type InspectMessage,
  type Inspector,
  verdict,
} from '../inspectors/types.ts';
import { extractUrls } from '../inspectors/url-extract.ts';
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

const PLAIN: Record<string, string> = {
  secretAsk: 'asks for a password or code',
  account: 'talks about your account',
  threatToAccount: 'threatens your account',
  verifyAction: 'asks you to verify or sign in',
  urgency: 'pushes you to hurry',
  authority: 'claims to be IT, a bank or a boss',
  prize: 'promises a prize or something free',
  money: 'promises money',
  sales: 'advertises',
  dating: 'dating bait',
  job: 'job offer bait',
  lure: 'a "look at this" lure',
  stranger: 'the sender is not in your contacts',
  'mass-send': 'sent to many people at once',
  'stranger-mass': 'a stranger sending to many people',
  'contact-broadcast': 'sent to many people at once',
  'fanout-log': 'sent to many people at once',
};

const SHAPES: Record<string, string> = {
  short: 'a very short message',
  emoji: 'emoji',
  'bang-run': 'insistent punctuation',
  money: 'mentions money',
  multiline: 'several lines',
};

/** A feature name in words a user can read. */
export function describeFeature(feature: string): string {
  const [kind = '', rest = ''] = feature.split(/:(.*)/s);
  if (kind === 'c' || kind === 'w') return 'its wording';
  if (kind.startsWith('lex') || kind === 'ctx') return PLAIN[rest] ?? rest;
  if (kind === 'url' && /^(any|from-stranger|mass-send|internal|well-known)$/.test(rest)) {
    return 'it contains a link';
  }
  if (kind.startsWith('url')) return 'a suspicious link';
  if (kind === 'file') return 'the file offered';
  if (kind === 'dlp') return 'addresses, ports or secrets in the text';
  if (kind === 'shape') return SHAPES[rest] ?? 'its form';
  return feature;
}

/**
 * The classifier scores messages to strangers, first messages of a conversation, mass sends,
 * and anything with a link, a file or data the DLP rules notice. A contact's next line in an
 * ongoing chat, with none of those, is left alone: it has nothing the model could hold it for
 * that a rule would not see, and it is most of the traffic.
 */
export function worthScoring(msg: InspectMessage, ctx: InspectContext): boolean {
  if (!ctx.senderIsContact || ctx.fanout > 1 || ctx.firstInConversation !== false) return true;
  if (msg.fileName !== undefined) return true;
  return extractUrls(msg.text).length > 0 || anyDlpSignal(dlpSignals(msg.text));
}

export function classifierInspector(model: ClassifierModel, policy: ThreatPolicy): Inspector {
  const hold = policy.classifier?.hold ?? model.thresholds.hold;
  const label = policy.classifier?.label ?? model.thresholds.label;
  return {
    name: 'classifier',
    threat: 'T1',
    inspect(msg, ctx): Verdict | undefined {
      if (!worthScoring(msg, ctx)) return undefined;
      const { score, top } = scoreFeatures(model, extractFeatures(msg, ctx));
      if (score < label) return undefined;
      const action = score >= hold ? 'hold' : 'label';
      const why = [...new Set(top.map((c) => describeFeature(c.feature)))].slice(0, 3).join(', ');
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
