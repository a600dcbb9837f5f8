import type { ServerContext } from '../../server/context.ts';
import type { DeliveryReceipt } from '../../session/session.ts';

interface Pending {
  owner: string;
  stanza: string;
  since: number;
  /** Copies not yet come back unacked. */
  open: number;
  /** The row once the message was written in flight. */
  id: Promise<number> | undefined;
  settled: boolean;
  /** Settles the sender's `written`. */
  written: (outcome: Promise<unknown>) => void;
}

/**
 * A message going live to `copies` sessions of `owner`, one of which acks (XEP-0198), is kept
 * safe against a crash: if no copy is acked within `stream_management.write_ahead_after_ms` it
 * is written to offline storage "in flight" (invisible to offline delivery, removed when a copy
 * is confirmed, turned into an offline message when every copy came back unacked, and by
 * `landAllInFlight` after a crash). The sender's stanza counts as handled (`written`) only once
 * a copy was acked or the row committed, so an acked sender's message survives kill -9, while
 * most messages, acked sooner, never touch the disk. One timer serves all waiting messages.
 */
export class LazyWriteAhead {
  /** Messages not yet acked nor written, oldest first. */
  private readonly waiting: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly afterMs: number,
  ) {}

  add(
    owner: string,
    stanza: string,
    copies: number,
  ): { receipt: DeliveryReceipt; written: Promise<void> } {
    let resolveWritten!: (outcome: Promise<unknown>) => void;
    const written = new Promise<unknown>((resolve) => {
      resolveWritten = resolve;
    }).then(() => undefined);
    const p: Pending = {
      owner,
      stanza,
      since: Date.now(),
      open: copies,
      id: undefined,
      settled: false,
      written: resolveWritten,
    };
    if (this.afterMs === 0) this.write(p);
    else {
      this.waiting.push(p);
      this.arm();
    }
    return {
      receipt: {
        delivered: () => {
          if (p.settled) return;
          p.settled = true;
          if (p.id) this.settle(p, p.id, (n) => this.ctx.storage.offline.remove(owner, [n]));
          else p.written(Promise.resolve());
        },
        undelivered: () => {
          if (p.settled || --p.open > 0) return;
          p.settled = true;
          if (p.id) this.settle(p, p.id, (n) => this.ctx.storage.offline.land(owner, [n]));
          // Never written: it goes to offline storage now, as any message for an absent account.
          else p.written(this.ctx.storage.offline.push(owner, stanza));
        },
      },
      written,
    };
  }

  private arm(): void {
    if (this.timer || this.waiting.length === 0) return;
    const due = this.waiting[0]!.since + this.afterMs - Date.now();
    this.timer = setTimeout(() => this.flush(), Math.max(0, due)).unref();
  }

  /** Writes every message that waited long enough without an ack. */
  private flush(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.waiting.length > 0 && this.waiting[0]!.since + this.afterMs <= now) {
      const p = this.waiting.shift()!;
      if (!p.settled) this.write(p);
    }
    // Acked entries further back are dropped when they reach the front.
    while (this.waiting.length > 0 && this.waiting[0]!.settled) this.waiting.shift();
    this.arm();
  }

  private write(p: Pending): void {
    p.id = this.ctx.storage.offline.pushInFlight(p.owner, p.stanza);
    // A failed write fails the sender's stanza, as before it was lazy.
    p.written(p.id);
  }

  private settle(p: Pending, id: Promise<number>, then: (id: number) => Promise<void>): void {
    id.then(then).catch((err: unknown) =>
      this.ctx.log.error({ err, owner: p.owner }, 'settling a written-ahead message failed'),
    );
  }
}
