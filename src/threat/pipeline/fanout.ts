// A simple per-sender count of distinct recipients of the same normalised text within a
// window: the context's `fanout`. The outbreak detector keeps its own, richer view.

import { foldText } from '../inspectors/url-extract.ts';

const MAX_SENDERS = 50_000;

/** Case, spacing, invisible characters and digits do not make a copy a different text. */
export function normaliseText(text: string): string {
  return foldText(text).toLowerCase().replace(/\d+/g, '0').replace(/\s+/g, ' ').trim();
}

/** Where the context's `fanout` comes from; the outbreak detector replaces the default. */
export interface FanoutSource {
  /** Notes one copy and returns how many distinct recipients got it in the window. */
  note(sender: string, text: string, recipient: string, now?: number): number;
}

export class FanoutCounter implements FanoutSource {
  /** sender → normalised text → recipient → last time (ms). */
  private readonly bySender = new Map<string, Map<string, Map<string, number>>>();

  constructor(private readonly windowMs = 60_000) {}

  /** Notes one copy and returns how many distinct recipients got this text in the window. */
  note(sender: string, text: string, recipient: string, now = Date.now()): number {
    const key = normaliseText(text);
    if (key === '') return 1;
    let texts = this.bySender.get(sender);
    if (!texts) {
      if (this.bySender.size >= MAX_SENDERS) this.sweep(now);
      texts = new Map();
      this.bySender.set(sender, texts);
    }
    let recipients = texts.get(key);
    if (!recipients) {
      this.expire(texts, now);
      recipients = new Map();
      texts.set(key, recipients);
    }
    recipients.set(recipient, now);
    for (const [r, at] of recipients) if (now - at > this.windowMs) recipients.delete(r);
    return recipients.size;
  }

  private expire(texts: Map<string, Map<string, number>>, now: number): void {
    for (const [k, recipients] of texts) {
      let newest = 0;
      for (const at of recipients.values()) newest = Math.max(newest, at);
      if (now - newest > this.windowMs) texts.delete(k);
    }
  }

  private sweep(now: number): void {
    for (const [sender, texts] of this.bySender) {
      this.expire(texts, now);
      if (texts.size === 0) this.bySender.delete(sender);
    }
  }
}
