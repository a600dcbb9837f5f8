// Reads the labelled corpus format (JSON lines, see /work/shared/corpus/README.md) into
// the engine's message and context types.

import { readFileSync } from 'node:fs';
import type { InspectContext, InspectMessage } from '../inspectors/types.ts';

export const THREAT_LABELS = ['spim', 'phish', 'worm', 'beacon'] as const;
export type CorpusLabel = 'ham' | (typeof THREAT_LABELS)[number];

export type CorpusItem = {
  id: string;
  label: CorpusLabel;
  msg: InspectMessage;
  ctx: InspectContext;
  /** The corpus's short reason for the label; groups messages written from one template. */
  note?: string;
};

type RawItem = {
  id?: unknown;
  text?: unknown;
  label?: unknown;
  note?: unknown;
  context?: {
    sender_is_contact?: unknown;
    fanout?: unknown;
    has_file?: unknown;
    sender_age_days?: unknown;
  };
};

export function parseCorpus(jsonl: string): CorpusItem[] {
  const out: CorpusItem[] = [];
  for (const [i, line] of jsonl.split('\n').entries()) {
    if (line.trim() === '') continue;
    const raw = JSON.parse(line) as RawItem;
    const c = raw.context ?? {};
    const msg: InspectMessage = { text: String(raw.text ?? '') };
    if (typeof c.has_file === 'string') msg.fileName = c.has_file;
    const ctx: InspectContext = {
      senderIsContact: c.sender_is_contact === true,
      fanout: typeof c.fanout === 'number' ? c.fanout : 1,
    };
    if (typeof c.sender_age_days === 'number') ctx.senderAgeDays = c.sender_age_days;
    const item: CorpusItem = {
      id: typeof raw.id === 'string' ? raw.id : `line-${i + 1}`,
      label: String(raw.label ?? 'ham') as CorpusLabel,
      msg,
      ctx,
    };
    if (typeof raw.note === 'string') item.note = raw.note;
    out.push(item);
  }
  return out;
}

export function readCorpus(path: string): CorpusItem[] {
  return parseCorpus(readFileSync(path, 'utf8'));
}

/** Deterministic fold of an item: a hash of its id, so folds do not depend on file order. */
export function foldOf(id: string, k: number): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619) >>> 0;
  return h % k;
}
