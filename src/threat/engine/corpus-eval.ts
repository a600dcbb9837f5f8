// Scores the engine against a labelled corpus: a confusion matrix of label against action,
// and the summary the issue asks for (recall per threat, ham held and labelled).

import type { CorpusItem } from '../classifier/corpus.ts';
import { THREAT_LABELS } from '../classifier/corpus.ts';
import { isStopped, type VerdictAction } from '../verdict.ts';

export const ACTIONS: readonly VerdictAction[] = ['allow', 'label', 'hold', 'refuse', 'quarantine'];

export type Summary = {
  n: number;
  recall: Record<(typeof THREAT_LABELS)[number], number>;
  ham_flagged: number;
  ham_labelled: number;
};

export type Outcome = { item: CorpusItem; action: VerdictAction };

const round = (x: number): number => Math.round(x * 10000) / 10000;

export function summarise(outcomes: readonly Outcome[]): Summary {
  const share = (label: string, pred: (a: VerdictAction) => boolean): number => {
    const of = outcomes.filter((o) => o.item.label === label);
    return of.length === 0 ? 0 : round(of.filter((o) => pred(o.action)).length / of.length);
  };
  const recall = Object.fromEntries(
    THREAT_LABELS.map((l) => [l, share(l, isStopped)]),
  ) as Summary['recall'];
  return {
    n: outcomes.length,
    recall,
    ham_flagged: share('ham', isStopped),
    ham_labelled: share('ham', (a) => a === 'label'),
  };
}

/** A fixed-width table: one row per label, one column per action. */
export function confusionTable(outcomes: readonly Outcome[]): string {
  const labels = ['ham', ...THREAT_LABELS];
  const extra = [...new Set(outcomes.map((o) => o.item.label))].filter((l) => !labels.includes(l));
  const rows = [['label \\ action', ...ACTIONS, 'total']];
  for (const label of [...labels, ...extra]) {
    const of = outcomes.filter((o) => o.item.label === label);
    rows.push([
      label,
      ...ACTIONS.map((a) => String(of.filter((o) => o.action === a).length)),
      String(of.length),
    ]);
  }
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(16) : c.padStart(11))).join(''))
    .join('\n');
}
