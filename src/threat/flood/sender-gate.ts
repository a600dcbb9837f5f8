import type { Session } from '../../session/session.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { Jid } from '../../stanza/jid.ts';
import type { SecurityEvent } from '../../storage/ports.ts';
import type { XmlElement } from '../../xml/element.ts';
import { senderNotice } from './flood-notices.ts';
import { SenderRate, type SenderRateLimits } from './sender-rate.ts';

export interface SenderGateLimits {
  mode: 'off' | 'monitor' | 'enforce';
  sender: SenderRateLimits;
  /** Held messages kept per sender; beyond, the sender gets an error. */
  maxHeldPerSender: number;
  noticeIntervalMs: number;
}

export interface SenderGatePorts {
  /** Routes a released message on, as if it had just arrived (inspection, then delivery). */
  route(msg: XmlElement, session: Session): void | Promise<void>;
  bounce(msg: XmlElement, err: StanzaError): void;
  notify(bare: string, text: string, rule: string): void;
  record(event: SecurityEvent): void;
}

interface Held {
  msg: XmlElement;
  session: Session;
  /** Settles the promise `offer` returned: the message was routed, refused or returned. */
  done: () => void;
}

interface SenderState {
  rate: SenderRate;
  queue: Held[];
  timer: NodeJS.Timeout | undefined;
  lastEventAt: number;
}

const SWEEP_MS = 60_000;
const FORGET_MS = 30 * 60_000;

/**
 * The sender side of the flood shield (T5), before any inspection: an account sending far
 * above its usual rate (max(floor, factor × usual) messages a second after a burst) has the
 * excess held in order, in memory, and released at that rate into the normal path (threat
 * inspection, the recipient's budget, delivery). Holding it here, not after inspection, means
 * a flood costs the server little more than reading it, so other people's messages do not wait
 * behind it. One event and one notice to the sender per episode.
 */
export class SenderGate {
  private readonly senders = new Map<string, SenderState>();
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(
    private readonly limits: SenderGateLimits,
    private readonly ports: SenderGatePorts,
  ) {
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
  }

  /**
   * False: route the message now. Otherwise the gate took it (held, or refused beyond the
   * bound), and the promise settles once it was routed or refused: held only in memory, the
   * message must not count as handled for the sender's XEP-0198 acks before then.
   */
  offer(msg: XmlElement, session: Session): false | Promise<void> {
    if (this.limits.mode === 'off' || msg.attrs.type === 'error') return false;
    const now = Date.now();
    const s = this.state(session.bare, now);
    s.rate.observe(now, s.queue.length > 0);
    // Once messages wait, later ones wait behind them: order is kept.
    if (s.queue.length === 0 && s.rate.bucket.tryTake()) return false;
    const started = this.recordStart(s, session.bare, msg, now);
    if (this.limits.mode === 'monitor') return false;
    if (started) this.ports.notify(session.bare, senderNotice(s.rate.allowedPerS), 'flood.sender');
    if (s.queue.length >= this.limits.maxHeldPerSender) {
      this.ports.bounce(
        msg,
        new StanzaError(
          'resource-constraint',
          'You are sending much faster than usual and the server holds no more of your messages for now; this one was not sent.',
        ),
      );
      return Promise.resolve();
    }
    return new Promise((done) => {
      s.queue.push({ msg, session, done });
      this.schedule(s);
    });
  }

  private recordStart(s: SenderState, sender: string, msg: XmlElement, now: number): boolean {
    if (now - s.lastEventAt < this.limits.noticeIntervalMs) return false;
    s.lastEventAt = now;
    const monitor = this.limits.mode === 'monitor';
    const evidence: Record<string, unknown> = {
      allowedPerS: Math.round(s.rate.allowedPerS * 100) / 100,
      usualPerS: Math.round(s.rate.usual * 100) / 100,
      burst: this.limits.sender.burst,
    };
    if (monitor) Object.assign(evidence, { monitor: true, wouldBe: 'hold' });
    const target = Jid.tryParse(msg.attrs.to)?.bare;
    this.ports.record({
      threat: 'T5',
      rule: 'flood.sender',
      actor: sender,
      ...(target === undefined ? {} : { target }),
      verdict: monitor ? 'allow' : 'hold',
      evidence,
    });
    return true;
  }

  private schedule(s: SenderState): void {
    if (s.timer) return;
    s.timer = setTimeout(() => this.release(s), s.rate.bucket.msUntil());
  }

  private release(s: SenderState): void {
    s.timer = undefined;
    while (s.queue.length > 0 && s.rate.bucket.tryTake()) {
      this.route(s.queue.shift()!);
    }
    if (s.queue.length > 0) this.schedule(s);
  }

  private route({ msg, session, done }: Held): void {
    const bounce = (err: unknown) =>
      this.ports.bounce(
        msg,
        err instanceof StanzaError
          ? err
          : new StanzaError('internal-server-error', 'the message could not be sent'),
      );
    try {
      const pending = this.ports.route(msg, session);
      if (!pending) return done();
      pending.catch(bounce).finally(done);
    } catch (err) {
      bounce(err);
      done();
    }
  }

  private state(sender: string, now: number): SenderState {
    let s = this.senders.get(sender);
    if (!s) {
      s = {
        rate: new SenderRate(this.limits.sender, now),
        queue: [],
        timer: undefined,
        lastEventAt: Number.NEGATIVE_INFINITY,
      };
      this.senders.set(sender, s);
    }
    return s;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [sender, s] of this.senders) {
      if (s.queue.length === 0 && now - s.rate.lastSeen > FORGET_MS) this.senders.delete(sender);
    }
  }

  /**
   * Shutdown: held messages were never accepted for delivery (inspecting thousands of them
   * now would hold up the shutdown), so each goes back to its sender with an error; returns
   * how many.
   */
  close(): number {
    clearInterval(this.sweepTimer);
    let returned = 0;
    const err = new StanzaError(
      'service-unavailable',
      'The server is shutting down; this message, held for flood protection, was not sent.',
    );
    for (const s of this.senders.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      for (const { msg, done } of s.queue.splice(0)) {
        this.ports.bounce(msg, err);
        done();
        returned++;
      }
    }
    return returned;
  }
}
