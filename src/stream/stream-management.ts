import { randomBytes } from 'node:crypto';
import type { ServerContext } from '../server/context.ts';
import { endSession } from '../session/end-session.ts';
import type { DeliveryReceipt, Session, SessionOutput } from '../session/session.ts';
import { StanzaError, type StreamErrorCondition } from '../stanza/errors.ts';
import { Jid } from '../stanza/jid.ts';
import { NS } from '../stanza/namespaces.ts';
import { type XmlElement, x } from '../xml/element.ts';

/**
 * XEP-0198 stream management: acks in both directions and resumption of a session whose
 * connection dropped. The c2s stream hands <enable/>, <resume/>, <r/> and <a/> here; a managed
 * session's output goes through a ManagedSession, which keeps what the client has not acked
 * and outlives the connection for `stream_management.resume_timeout_s`.
 */

export const NS_SM = 'urn:xmpp:sm:3';

const H_MAX = 0xffffffff;

/** How many stanzas an ack with `h` confirms after `previous` (counters wrap at 2^32). */
export function ackedCount(h: number, previous: number): number {
  return (h - previous) >>> 0;
}

/** An `h` attribute: an integer 0..2^32-1, or undefined. */
export function parseH(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return undefined;
  const h = Number(value);
  return h <= H_MAX ? h : undefined;
}

/** What stream management needs from the connection that carries a session right now. */
export interface SmLink {
  /** Writes a stanza or nonza (the stream's back-pressure rule applies). */
  send(el: XmlElement): void;
  close(condition?: StreamErrorCondition, text?: string, appCondition?: XmlElement): void;
  /** The session moves to another connection: end this one, but not the session. */
  handOver(): void;
  isOpen(): boolean;
}

export function smFailed(
  condition: 'unexpected-request' | 'item-not-found' | 'bad-request',
  text?: string,
): XmlElement {
  return x(
    'failed',
    { xmlns: NS_SM },
    x(condition, { xmlns: NS.stanzaErrors }),
    text ? x('text', { xmlns: NS.stanzaErrors, 'xml:lang': 'en' }, text) : undefined,
  );
}

/**
 * Counts the client's stanzas as their handling finishes, in order: an ack covers a stanza only
 * once it was routed, answered or stored (an offline write has committed), so "acked" means
 * "will not be lost" (XEP-0198 §4).
 */
export class InboundCounter {
  private received = 0;
  /** Sequence numbers still being handled, oldest first. */
  private readonly inFlight: number[] = [];
  private readonly waiters: { target: number; fn: () => void }[] = [];

  /** Handled stanzas, as sent in `h`. */
  get h(): number {
    return this.handledTotal() % 2 ** 32;
  }

  private handledTotal(): number {
    return this.inFlight.length > 0 ? this.inFlight[0]! - 1 : this.received;
  }

  begin(): number {
    this.received++;
    this.inFlight.push(this.received);
    return this.received;
  }

  end(seq: number): void {
    if (this.inFlight[0] === seq) this.inFlight.shift();
    else {
      const i = this.inFlight.indexOf(seq);
      if (i !== -1) this.inFlight.splice(i, 1);
    }
    const handled = this.handledTotal();
    while (this.waiters.length > 0 && this.waiters[0]!.target <= handled)
      this.waiters.shift()!.fn();
  }

  /** Runs `fn` once every stanza received so far has been handled. */
  afterHandled(fn: () => void): void {
    if (this.inFlight.length === 0) fn();
    else this.waiters.push({ target: this.received, fn });
  }

  settled(): Promise<void> {
    return new Promise((resolve) => this.afterHandled(resolve));
  }
}

interface Unacked {
  el: XmlElement;
  receipt: DeliveryReceipt | undefined;
}

/** One session under stream management; its output while connected and while hibernating. */
export class ManagedSession implements SessionOutput {
  readonly confirmsDelivery = true;
  readonly inbound = new InboundCounter();
  private link: SmLink | undefined;
  /** Stanzas sent since <enabled/>, mod 2^32. */
  private sent = 0;
  /** The client's last `h`. */
  private acked = 0;
  private readonly queue: Unacked[] = [];
  private requestOutstanding = false;
  private sinceRequest = 0;
  private requestTimer: NodeJS.Timeout | undefined;
  private hibernation: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly sm: StreamManagement,
    readonly session: Session,
    link: SmLink,
    /** The resumption token, when the session may be resumed. */
    readonly id: string | undefined,
    readonly maxSeconds: number,
  ) {
    this.link = link;
  }

  get hibernating(): boolean {
    return this.link === undefined && !this.ended;
  }

  send(el: XmlElement, receipt?: DeliveryReceipt): void {
    if (this.ended) {
      receipt?.undelivered();
      return;
    }
    this.sent = (this.sent + 1) >>> 0;
    this.queue.push({ el, receipt });
    if (this.queue.length > this.sm.config.max_unacked) {
      this.sm.ctx.events.record({
        threat: 'T5',
        rule: 'sm.unacked-overflow',
        actor: this.session.jid.full,
        address: this.session.address,
        verdict: 'close',
        evidence: { unacked: this.queue.length, hibernating: this.hibernating },
      });
      this.close(
        'policy-violation',
        `more than ${this.sm.config.max_unacked} stanzas were not acknowledged`,
      );
      return;
    }
    if (!this.link) return;
    this.link.send(el);
    this.sinceRequest++;
    this.maybeRequestAck();
  }

  close(condition?: StreamErrorCondition, text?: string): void {
    if (this.link) this.link.close(condition, text);
    else this.finish();
  }

  /** The client's <r/>: answered once what it sent before has been handled. */
  onRequest(): void {
    this.inbound.afterHandled(() =>
      this.link?.send(x('a', { xmlns: NS_SM, h: String(this.inbound.h) })),
    );
  }

  /** The client's <a/>. */
  onAck(el: XmlElement): void {
    const h = parseH(el.attrs.h);
    if (h === undefined) {
      this.link?.close('bad-format', 'the h attribute must be an integer from 0 to 4294967295');
      return;
    }
    if (!this.confirm(h, this.link)) return;
    this.requestOutstanding = false;
    this.maybeRequestAck();
  }

  /** Drops what `h` confirms; false (and a stream error on `link`) when h is too high (§4). */
  private confirm(h: number, link: SmLink | undefined): boolean {
    const count = ackedCount(h, this.acked);
    if (count > this.queue.length) {
      link?.close(
        'undefined-condition',
        `You acknowledged ${count} more stanzas than the ${this.queue.length} still unacknowledged (h=${h}, sent=${this.sent}).`,
        x('handled-count-too-high', {
          xmlns: NS_SM,
          h: String(h),
          'send-count': String(this.sent),
        }),
      );
      return false;
    }
    this.acked = h;
    for (const done of this.queue.splice(0, count)) done.receipt?.delivered();
    return true;
  }

  private maybeRequestAck(): void {
    if (this.requestOutstanding || !this.link || this.queue.length === 0) return;
    if (this.sinceRequest >= this.sm.config.request_every) {
      this.requestAck();
      return;
    }
    this.requestTimer ??= setTimeout(() => {
      this.requestTimer = undefined;
      if (!this.requestOutstanding && this.queue.length > 0) this.requestAck();
    }, this.sm.config.request_after_ms).unref();
  }

  private requestAck(): void {
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.requestTimer = undefined;
    this.requestOutstanding = true;
    this.sinceRequest = 0;
    this.link?.send(x('r', { xmlns: NS_SM }));
  }

  /**
   * The connection `link` ended. A dropped connection (no </stream:stream>, or no answer to
   * pings) leaves a resumable session hibernating; anything else ends the session.
   */
  linkEnded(link: SmLink, dropped: boolean): void {
    if (link !== this.link) return;
    this.link = undefined;
    this.stopRequests();
    if (!dropped || this.id === undefined || this.sm.closing) {
      this.finish();
      return;
    }
    this.hibernation = setTimeout(() => this.finish(), this.maxSeconds * 1000).unref();
  }

  /**
   * <resume/> on `link`: checks the client's h, moves the session there, answers <resumed/>
   * and sends again everything the client has not acked, in order, exactly once more.
   */
  resumeOn(link: SmLink, h: number): boolean {
    if (!this.confirm(h, link)) return false;
    if (this.hibernation) clearTimeout(this.hibernation);
    this.hibernation = undefined;
    const old = this.link;
    this.link = link;
    this.stopRequests();
    old?.handOver();
    link.send(x('resumed', { xmlns: NS_SM, h: String(this.inbound.h), previd: this.id }));
    for (const { el } of this.queue) link.send(el);
    this.sinceRequest = this.queue.length;
    if (this.queue.length > 0) this.requestAck();
    return true;
  }

  private stopRequests(): void {
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.requestTimer = undefined;
    this.requestOutstanding = false;
  }

  /** Ends the session: what the client never acked goes back to offline storage (or its sender). */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.hibernation) clearTimeout(this.hibernation);
    this.stopRequests();
    this.link = undefined;
    this.sm.forget(this);
    const unacked = this.queue.splice(0);
    endSession(this.sm.ctx, this.session);
    this.sm
      .requeue(this.session, unacked)
      .catch((err: unknown) =>
        this.sm.ctx.log.error({ err }, 'requeueing unacknowledged stanzas failed'),
      );
  }
}

/** The server's side of XEP-0198: the feature, <enable/>, <resume/> and the resumable sessions. */
export class StreamManagement {
  private readonly resumable = new Map<string, ManagedSession>();
  closing = false;

  constructor(readonly ctx: ServerContext) {
    if (this.config.enabled)
      ctx.hooks.on('stream-features', (features) => features.push(x('sm', { xmlns: NS_SM })));
  }

  get config(): ServerContext['config']['stream_management'] {
    return this.ctx.config.stream_management;
  }

  /** Answers <enable/> on a stream whose session is bound; returns the managed session. */
  enable(session: Session, link: SmLink, el: XmlElement): ManagedSession {
    const wantsResume = el.attrs.resume === 'true' || el.attrs.resume === '1';
    const limit = this.config.resume_timeout_s;
    const asked = Number.parseInt(el.attrs.max ?? '', 10);
    const max = Number.isInteger(asked) && asked > 0 ? Math.min(asked, limit) : limit;
    const resumable = wantsResume && max > 0;
    // 144 random bits: the token alone cannot be guessed, and it only works for its account.
    const id = resumable ? randomBytes(18).toString('base64url') : undefined;
    const managed = new ManagedSession(this, session, link, id, max);
    if (id !== undefined) this.resumable.set(id, managed);
    link.send(
      x('enabled', {
        xmlns: NS_SM,
        id,
        resume: resumable ? 'true' : undefined,
        max: resumable ? String(max) : undefined,
      }),
    );
    // From here on, every stanza to the session is counted and kept until acked.
    session.redirect(managed);
    return managed;
  }

  /**
   * <resume/> from `account` (authenticated, not yet bound) on `link`. Resolves with the session
   * it took over, or undefined after answering <failed/> (or closing on a bad h).
   */
  async resume(account: string, link: SmLink, el: XmlElement): Promise<ManagedSession | undefined> {
    const h = parseH(el.attrs.h);
    const previd = el.attrs.previd ?? '';
    const managed = this.resumable.get(previd);
    if (h === undefined) {
      link.send(smFailed('bad-request', 'h must be an integer from 0 to 4294967295'));
      return undefined;
    }
    if (!managed || managed.session.bare !== account) {
      if (managed) {
        this.ctx.events.record({
          threat: 'T4',
          rule: 'sm.resume-foreign-session',
          actor: account,
          target: managed.session.bare,
          verdict: 'refuse',
          evidence: {},
        });
      }
      // The same answer whether the id never existed, expired or belongs to someone else.
      link.send(smFailed('item-not-found', 'no session to resume with this id'));
      return undefined;
    }
    // What the old connection sent is handled first, so <resumed h/> counts all of it.
    await managed.inbound.settled();
    if (!link.isOpen()) return undefined;
    if (!this.resumable.has(previd)) {
      link.send(smFailed('item-not-found', 'the session ended while resuming'));
      return undefined;
    }
    return managed.resumeOn(link, h) ? managed : undefined;
  }

  forget(managed: ManagedSession): void {
    if (managed.id !== undefined) this.resumable.delete(managed.id);
  }

  /** Server shutdown: hibernating sessions end now, their unacked messages stored. */
  shutdown(): void {
    this.closing = true;
    for (const managed of [...this.resumable.values()]) if (managed.hibernating) managed.finish();
  }

  /**
   * Stanzas a session never acked: messages go to offline storage (XEP-0198 §5, like a stanza
   * for an unavailable resource), IQ requests are answered with an error; stanzas with a
   * receipt already have a durable copy with their sender (offline storage) and stay there.
   */
  async requeue(session: Session, unacked: Unacked[]): Promise<void> {
    for (const { el, receipt } of unacked) {
      if (receipt) {
        receipt.undelivered();
        continue;
      }
      const type = el.attrs.type;
      if (el.name === 'iq' && (type === 'get' || type === 'set')) {
        this.ctx.router.bounce(el, new StanzaError('service-unavailable'));
        continue;
      }
      if (el.name !== 'message' || (type !== undefined && type !== 'chat' && type !== 'normal'))
        continue;
      if (this.deliveredElsewhere(el, session)) continue;
      try {
        await this.ctx.router.offline?.(el, Jid.parse(session.bare));
      } catch (err) {
        if (err instanceof StanzaError) this.ctx.router.bounce(el, err);
        else throw err;
      }
    }
  }

  /** A message to the bare JID also went to the account's other available resources. */
  private deliveredElsewhere(el: XmlElement, session: Session): boolean {
    const to = Jid.tryParse(el.attrs.to);
    if (!to?.isBare) return false;
    return this.ctx.sessions.available(session.bare).some((s) => s !== session && s.priority >= 0);
  }
}
