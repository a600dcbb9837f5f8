// T5/T9: bodies built to break clients or fool readers: text-direction overrides, runs of
// invisible characters, "zalgo" stacks of combining marks, walls of emoji, and one
// unbroken "word" long enough to hang a line-breaking algorithm.

import type { ThreatPolicy } from '../engine/policy.ts';
import type { Verdict } from '../verdict.ts';
import { type Inspector, verdict } from './types.ts';

const BIDI_OVERRIDE = /[\u202a-\u202e\u2066-\u2069]/gu;
const ZERO_WIDTH_RUN = /[\u200b-\u200d\u2060-\u2064\ufeff\u180e]+/gu;
const COMBINING = /\p{M}/gu;
const BASE = /[\p{L}\p{N}]/gu;
const PICTOGRAPH = /\p{Extended_Pictographic}/gu;

export type ContentFinding = { rule: string; reason: string; measure: number };

export function contentFindings(
  text: string,
  limits: ThreatPolicy['contentGuard'],
): ContentFinding[] {
  const out: ContentFinding[] = [];
  const bidi = text.match(BIDI_OVERRIDE)?.length ?? 0;
  if (bidi > 0) {
    out.push({
      rule: 'content.bidi',
      reason: 'it contains characters that reverse the text direction',
      measure: bidi,
    });
  }
  const zw = Math.max(0, ...[...text.matchAll(ZERO_WIDTH_RUN)].map((m) => [...m[0]].length));
  if (zw >= limits.maxZeroWidthRun) {
    out.push({
      rule: 'content.zero-width',
      reason: 'it hides a run of invisible characters',
      measure: zw,
    });
  }
  const marks = text.match(COMBINING)?.length ?? 0;
  const bases = text.match(BASE)?.length ?? 0;
  // Scripts such as Vietnamese stack up to two marks on a letter; zalgo stacks dozens.
  if (marks >= 10 && marks > limits.maxCombiningRatio * Math.max(1, bases)) {
    out.push({
      rule: 'content.combining',
      reason: 'it stacks combining marks to corrupt the display',
      measure: marks,
    });
  }
  const emoji = text.match(PICTOGRAPH)?.length ?? 0;
  const visible = [...text.replace(/\s/g, '')].length;
  if (emoji >= limits.minEmojiCount && emoji > limits.maxEmojiRatio * visible) {
    out.push({ rule: 'content.emoji', reason: 'it is a flood of emoji', measure: emoji });
  }
  const longest = Math.max(0, ...text.split(/\s+/).map((w) => Buffer.byteLength(w)));
  if (longest > limits.maxWordBytes) {
    out.push({
      rule: 'content.long-word',
      reason: 'it contains one enormous unbroken word',
      measure: longest,
    });
  }
  return out;
}

/** The content guard reads its limits from the policy, so it is built per policy. */
export function contentGuard(limits: ThreatPolicy['contentGuard']): Inspector {
  return {
    name: 'content',
    threat: 'T5',
    inspect(msg): Verdict | undefined {
      const found = contentFindings(msg.text, limits);
      if (found.length === 0) return undefined;
      const bidiOnly = found.every((f) => f.rule === 'content.bidi');
      return verdict(
        'refuse',
        bidiOnly ? 'T9' : 'T5',
        found[0]!.rule,
        `Message refused because ${found.map((f) => f.reason).join(', and ')}.`,
        Object.fromEntries(found.map((f) => [f.rule, f.measure])),
      );
    },
  };
}
