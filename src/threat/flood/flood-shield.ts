import { StanzaError } from '../../stanza/errors.ts';
import { Jid } from '../../stanza/jid.ts';
import type { SecurityEvent } from '../../storage/ports.ts';
import { TokenBucket } from '../../util/token-bucket.ts';
import type { XmlElement } from '../../xml/element.ts';
import { type EpisodeTally, emptyTally, mergeTally, recipientNotice } from './flood-notices.ts';
import { type HeldMessage, HeldQueue } from './held-queue.ts';

export interface FloodLimits {
  mode: 'off' | 'monitor' | 'enforce';
  recipientPerS: number;
  recipientBurst: number;
  maxHeldPerRecipient: number;
  maxHeldTotal: number;
  /** Shortest gap between two events or notices about one account. */
  noticeIntervalMs: number;
}

/** What the shield needs from the server; index.ts adapts the router and storage to it. */
export interface FloodPorts {
  /** Delivers past the shield (throws a StanzaError when it cannot). */
  deliver(msg: XmlElement, to: Jid): void | Promise<void>;
  bounce(msg: XmlElement, err: StanzaError): void;
  /** Offline storage of the recipient (throws a StanzaError when full). */
  store(msg: XmlElement, to: string): Promise<void>;
  /** Oldest first; the caller removes what it took. */
  loadStored(to: string, limit: number): Promise<{ id: number; msg: XmlElement }[]>;
  removeStored(to: string, ids: number[]): Promise<void>;
  /** Has an available resource that messages to the bare JID reach. */
  isOnline(bare: string): boolean;
  notify(bare: string, text: string, rule: string): void;
  record(event: SecurityEvent): void;
  logError(err: unknown, what: string): void;
}

interface RecipientState {
  bucket: TokenBucket;
  queue: HeldQueue;
  /** Held messages written to offline storage, per sender, waiting to be read back. */
  spilled: Map<string, number>;
  spilledTotal: number;
  /** Writes to storage, in order. */
  storing: Promise<void>;
  /** Offline storage refused a held message: refuse further spills without asking again. */
  storageFull: boolean;
  loading: boolean;
  timer: NodeJS.Timeout | undefined;
  episode: EpisodeTally | undefined;
  /** Finished episodes not told yet (notices are spaced by noticeIntervalMs). */
  untold: EpisodeTally | undefined;
  noticeTimer: NodeJS.Timeout | undefined;
  lastEventAt: number;
  lastNoticeAt: number;
}

const RELOAD_BATCH = 200;
const SWEEP_MS = 30_000;

/**
 * The recipient side of the flood shield (T5). Every inspected message from one account to
 * another passes `admit`: it goes through at once while the recipient's inbound budget has
 * room, and is held otherwise, in memory up to a bound, then in the recipient's offline
 * storage. Held messages are released at the budget's pace, round-robin between senders, in
 * order per sender. Each episode gives one security event and, when it ends, a notice to the
 * recipient ("N messages from X were held because ..."). Nothing here blocks: releases run on
 * timers. (A sender far above its usual rate is held earlier, before inspection: SenderGate.)
 */
export class FloodShield {
  private readonly recipients = new Map<string, RecipientState>();
  private heldInMemory = 0;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(
    private readonly limits: FloodLimits,
    private readonly ports: FloodPorts,
  ) {
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** True when the shield took the message (held); false: deliver it now. */
  admit(msg: XmlElement, sender: string, to: Jid): boolean {
    if (this.limits.mode === 'off') return false;
    const now = Date.now();
    const r = this.recipientState(to.bare);
    // Once a pair has messages waiting, later ones wait behind them: order is kept.
    const waiting = r.queue.has(sender) || (r.spilled.get(sender) ?? 0) > 0;
    if (!waiting && r.bucket.tryTake()) return false;
    if (this.limits.mode === 'monitor') {
      this.recordStart(r, sender, to.bare, now, true);
      return false;
    }
    this.hold(msg, sender, to, r, now);
    return true;
  }

  private hold(msg: XmlElement, sender: string, to: Jid, r: RecipientState, now: number): void {
    r.episode ??= emptyTally();
    this.recordStart(r, sender, to.bare, now, false);
    r.episode.bySender.set(sender, (r.episode.bySender.get(sender) ?? 0) + 1);
    const full =
      r.queue.size >= this.limits.maxHeldPerRecipient ||
      this.heldInMemory >= this.limits.maxHeldTotal;
    if (r.spilledTotal > 0 || full) {
      if (r.storageFull) this.refuse(msg, r, to.bare);
      else this.spill(msg, sender, to.bare, r);
    } else {
      r.queue.push(sender, { msg, to });
      this.heldInMemory++;
    }
    this.schedule(r, to.bare);
  }

  /** One event per recipient per notice interval: the start of an episode. */
  private recordStart(
    r: RecipientState,
    sender: string,
    to: string,
    now: number,
    monitor: boolean,
  ): void {
    if (now - r.lastEventAt < this.limits.noticeIntervalMs) return;
    r.lastEventAt = now;
    const evidence: Record<string, unknown> = {
      budgetPerS: this.limits.recipientPerS,
      burst: this.limits.recipientBurst,
    };
    if (monitor) Object.assign(evidence, { monitor: true, wouldBe: 'hold' });
    this.ports.record({
      threat: 'T5',
      rule: 'flood.recipient',
      actor: sender,
      target: to,
      verdict: monitor ? 'allow' : 'hold',
      evidence,
    });
  }

  private spill(msg: XmlElement, sender: string, to: string, r: RecipientState): void {
    r.spilled.set(sender, (r.spilled.get(sender) ?? 0) + 1);
    r.spilledTotal++;
    r.storing = r.storing.then(() =>
      this.ports.store(msg, to).catch((err: unknown) => {
        this.unspill(r, sender, 1);
        r.storageFull = true;
        if (r.episode) r.episode.refused++;
        this.ports.bounce(msg, asStanzaError(err));
      }),
    );
  }

  /** Beyond every bound: the sender gets an error (and the recipient's notice counts it). */
  private refuse(msg: XmlElement, r: RecipientState, to: string): void {
    if (r.episode) r.episode.refused++;
    this.ports.bounce(
      msg,
      new StanzaError(
        'resource-constraint',
        `${to} is receiving more messages than the server can hold for now; this one was not delivered`,
      ),
    );
  }

  private unspill(r: RecipientState, sender: string, n: number): void {
    const left = (r.spilled.get(sender) ?? 0) - n;
    if (left > 0) r.spilled.set(sender, left);
    else r.spilled.delete(sender);
    r.spilledTotal = Math.max(0, r.spilledTotal - n);
  }

  private schedule(r: RecipientState, to: string): void {
    if (r.timer || r.loading) return;
    r.timer = setTimeout(() => this.release(r, to), r.bucket.msUntil());
  }

  private release(r: RecipientState, to: string): void {
    r.timer = undefined;
    while (r.queue.size > 0 && r.bucket.tryTake()) {
      const next = r.queue.takeNext()!;
      this.heldInMemory--;
      this.deliver(next.item);
    }
    if (r.queue.size > 0) return this.schedule(r, to);
    if (r.spilledTotal > 0) {
      void this.reload(r, to);
      return;
    }
    this.endEpisode(r, to);
  }

  private deliver(item: HeldMessage): void {
    try {
      const pending = this.ports.deliver(item.msg, item.to);
      if (pending) pending.catch((err: unknown) => this.ports.bounce(item.msg, asStanzaError(err)));
    } catch (err) {
      this.ports.bounce(item.msg, asStanzaError(err));
    }
  }

  /** Reads spilled messages back into memory, oldest first, once memory has drained. */
  private async reload(r: RecipientState, to: string): Promise<void> {
    r.loading = true;
    r.storageFull = false;
    try {
      // Every spill written so far, including those queued while waiting.
      let written: Promise<void>;
      do {
        written = r.storing;
        await written;
      } while (written !== r.storing);
      if (!this.ports.isOnline(to)) {
        // They stay in offline storage and arrive at the next sign-in, before anything newer.
        if (r.episode) r.episode.storedForLater += r.spilledTotal;
        r.spilled.clear();
        r.spilledTotal = 0;
        return;
      }
      const rows = await this.ports.loadStored(to, RELOAD_BATCH);
      await this.ports.removeStored(
        to,
        rows.map((row) => row.id),
      );
      for (const { msg } of rows) {
        const sender = Jid.tryParse(msg.attrs.from)?.bare ?? '';
        if ((r.spilled.get(sender) ?? 0) > 0) this.unspill(r, sender, 1);
        r.queue.push(sender, { msg, to: Jid.parse(to) });
        this.heldInMemory++;
      }
      // Storage is empty though we wrote more: a sign-in took them (offline delivery).
      if (rows.length === 0 && written === r.storing) {
        r.spilled.clear();
        r.spilledTotal = 0;
      }
    } catch (err) {
      this.ports.logError(err, 'flood shield could not read held messages back');
    } finally {
      r.loading = false;
    }
    if (r.queue.size > 0 || r.spilledTotal > 0) this.schedule(r, to);
    else this.endEpisode(r, to);
  }

  private endEpisode(r: RecipientState, to: string): void {
    r.storageFull = false;
    const ep = r.episode;
    r.episode = undefined;
    if (!ep) return;
    if (r.untold) mergeTally(r.untold, ep);
    else r.untold = ep;
    this.tell(r, to);
  }

  /** Tells the recipient about finished episodes, at most once per notice interval. */
  private tell(r: RecipientState, to: string): void {
    if (!r.untold || r.episode) return;
    const wait = r.lastNoticeAt + this.limits.noticeIntervalMs - Date.now();
    if (wait > 0) {
      r.noticeTimer ??= setTimeout(() => {
        r.noticeTimer = undefined;
        this.tell(r, to);
      }, wait);
      return;
    }
    r.lastNoticeAt = Date.now();
    const text = recipientNotice(r.untold, this.limits.recipientPerS);
    r.untold = undefined;
    this.ports.notify(to, text, 'flood.recipient');
  }

  private recipientState(to: string): RecipientState {
    let r = this.recipients.get(to);
    if (!r) {
      r = {
        bucket: new TokenBucket(this.limits.recipientPerS, this.limits.recipientBurst),
        queue: new HeldQueue(),
        spilled: new Map(),
        spilledTotal: 0,
        storing: Promise.resolve(),
        storageFull: false,
        loading: false,
        timer: undefined,
        episode: undefined,
        untold: undefined,
        noticeTimer: undefined,
        lastEventAt: Number.NEGATIVE_INFINITY,
        lastNoticeAt: Number.NEGATIVE_INFINITY,
      };
      this.recipients.set(to, r);
    }
    return r;
  }

  /** Forgets idle accounts: nothing held, budgets refilled, nothing left to tell. */
  private sweep(): void {
    const now = Date.now();
    for (const [to, r] of this.recipients) {
      const idle = r.queue.size === 0 && r.spilledTotal === 0 && !r.loading && !r.timer;
      const quiet = now - Math.max(r.lastEventAt, r.lastNoticeAt) > this.limits.noticeIntervalMs;
      if (idle && quiet && !r.episode && !r.untold && r.bucket.isFull()) this.recipients.delete(to);
    }
  }

  /** Shutdown: what is held in memory goes to offline storage, in order, so nothing is lost. */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    for (const [to, r] of this.recipients) {
      if (r.timer) clearTimeout(r.timer);
      if (r.noticeTimer) clearTimeout(r.noticeTimer);
      r.timer = undefined;
      await r.storing;
      // Spilled ones are newer than those in memory: read them back behind them first.
      const spilled =
        r.spilledTotal > 0 ? await this.ports.loadStored(to, Number.MAX_SAFE_INTEGER) : [];
      await this.ports.removeStored(
        to,
        spilled.map((row) => row.id),
      );
      const items = r.queue.drain().map(({ item }) => item.msg);
      for (const msg of [...items, ...spilled.map((row) => row.msg)]) {
        await this.ports.store(msg, to).catch((err: unknown) => {
          this.ports.logError(err, 'flood shield could not store a held message at shutdown');
        });
      }
    }
    this.recipients.clear();
    this.heldInMemory = 0;
  }
}

function asStanzaError(err: unknown): StanzaError {
  return err instanceof StanzaError
    ? err
    : new StanzaError('internal-server-error', 'the message could not be delivered');
}
