import { randomUUID } from 'node:crypto';
import type { ServerContext } from '../server/context.ts';
import type { DeliveryReceipt, Session } from '../session/session.ts';
import { errorReply, mayReplyWithError, StanzaError } from '../stanza/errors.ts';
import { Jid } from '../stanza/jid.ts';
import { type XmlElement, x } from '../xml/element.ts';

/** Handles an IQ get/set the server answers itself; returns the result payload (or none). */
export type IqHandler = (
  iq: XmlElement,
  req: IqRequest,
) => XmlElement | undefined | Promise<XmlElement | undefined>;

export interface IqRequest {
  from: Jid;
  to: Jid;
  /** The sender's session, when the IQ came from a local client. */
  session: Session | undefined;
}

/**
 * A checkpoint on every stanza a client sends, after stamping and before routing (the
 * threat engine plugs in here). Returning a StanzaError refuses the stanza; 'drop' ends it.
 */
export type OutboundFilter = (
  stanza: XmlElement,
  session: Session,
) => 'continue' | 'drop' | StanzaError;

/**
 * A checkpoint on every stanza about to reach a local account `to` (a bare JID), whoever sent
 * it (the blocking command plugs in here). Runs synchronously on the delivery path, so a
 * filter answers from memory. Returning a StanzaError refuses the stanza; 'drop' ends it.
 * Presence is never answered with an error: callers treat any refusal of presence as 'drop'.
 */
export type InboundFilter = (stanza: XmlElement, to: string) => 'continue' | 'drop' | StanzaError;

/**
 * The threat pipeline's entry (issue 5): decides a message from a local session to a local
 * account and delivers, labels, holds or refuses it (by throwing a StanzaError).
 */
export type MessageGate = (msg: XmlElement, to: Jid, session: Session) => Promise<void>;

/** A message a client sent to the server's own domain JID (replies to server notices). */
export type DomainMessageHandler = (msg: XmlElement, session: Session) => void | Promise<void>;

/**
 * A side-effect-free question about a message for local account `to` (is the sender
 * blocked?), asked by the threat gate before it inspects or holds a message. Unlike inbound
 * filters, which run at delivery, checks may read storage (an offline account's blocklist).
 */
export type InboundCheck = (
  stanza: XmlElement,
  to: string,
) => Promise<'continue' | 'drop' | StanzaError>;

/** Presence logic lives in the presence module; the router hands it every presence stanza. */
export interface PresenceHandler {
  fromClient(stanza: XmlElement, session: Session): void | Promise<void>;
}

/**
 * May hold back a message on its way to local account `to` (the flood shield plugs in here);
 * returns true when it took the message, which it delivers later with `deliverAdmitted`.
 */
export type DeliveryGate = (msg: XmlElement, to: Jid) => boolean;

/**
 * May hold back a stanza a client sent, after the outbound filters and before routing and
 * inspection (the flood shield's sender side). False: route it now. A promise: the gate took
 * the stanza, routes it later with `routeChecked`, and settles the promise then (the stanza
 * counts as handled for XEP-0198 acks only once it was routed).
 */
export type SenderGate = (stanza: XmlElement, session: Session) => false | Promise<void>;

/**
 * Observes messages on their way (message carbons plug in here). `sent`: a local client's
 * message was accepted for delivery. `delivered`: a message reached these sessions of local
 * account `to` (none when it was stored offline). Taps only watch; they cannot refuse.
 */
export interface MessageTap {
  sent?(msg: XmlElement, from: Session): void;
  delivered?(msg: XmlElement, to: Jid, recipients: readonly Session[]): void;
}

/**
 * Makes a message durable for local account `to` before it goes to `recipients`, at least one
 * of which acks deliveries (XEP-0198): `receipt` goes with each copy, and the sender's stanza
 * counts as handled once `written` resolves. Undefined: the message is not worth keeping.
 */
export type WriteAhead = (
  msg: XmlElement,
  to: Jid,
  recipients: readonly Session[],
) => { receipt: DeliveryReceipt; written: Promise<void> } | undefined;

/** Stores a message for an account with no available resource (XEP-0160). */
export type OfflineHandler = (stanza: XmlElement, to: Jid) => Promise<void>;

/** May `viewer` see `owner`'s presence and resources (owner approved viewer's subscription)? */
export type PresenceAuthority = (owner: string, viewer: string) => boolean | Promise<boolean>;

/**
 * Routes stanzas by their `to` address per RFC 6120 §10 and RFC 6121 §8: to the server
 * itself, to a local account, or (federation being off, T8) nowhere.
 */
export class Router {
  private readonly hostIq = new Map<string, IqHandler>();
  private readonly accountIq = new Map<string, IqHandler>();
  readonly outboundFilters: OutboundFilter[] = [];
  readonly inboundFilters: InboundFilter[] = [];
  readonly inboundChecks: InboundCheck[] = [];
  presence: PresenceHandler | undefined;
  offline: OfflineHandler | undefined;
  writeAhead: WriteAhead | undefined;
  deliveryGate: DeliveryGate | undefined;
  senderGate: SenderGate | undefined;
  readonly messageTaps: MessageTap[] = [];
  messageGate: MessageGate | undefined;
  /** Promises of live deliveries that only wait for the write-ahead (see `isOnlyDurability`). */
  private readonly durabilityOnly = new WeakSet<Promise<void>>();
  domainMessage: DomainMessageHandler | undefined;
  presenceAuthority: PresenceAuthority = () => false;
  /** IQs the server sent to a client, by id, waiting for that client's answer. */
  private readonly awaiting = new Map<
    string,
    { from: string; settle: (reply: XmlElement | undefined) => void }
  >();

  constructor(private readonly ctx: ServerContext) {}

  /** An IQ addressed to the server's domain. */
  onHostIq(type: 'get' | 'set', ns: string, handler: IqHandler): void {
    this.hostIq.set(`${type} ${ns}`, handler);
  }

  /** An IQ addressed to an account's bare JID (or with no `to`), answered by the server. */
  onAccountIq(type: 'get' | 'set', ns: string, handler: IqHandler): void {
    this.accountIq.set(`${type} ${ns}`, handler);
  }

  hostIqNamespaces(): string[] {
    return [...this.hostIq.keys()].map((k) => k.slice(k.indexOf(' ') + 1));
  }

  routeFromClient(stanza: XmlElement, session: Session): void | Promise<void> {
    for (const filter of this.outboundFilters) {
      const verdict = filter(stanza, session);
      if (verdict === 'drop') return;
      if (verdict instanceof StanzaError) throw verdict;
    }
    const held = this.senderGate?.(stanza, session);
    if (held) return held;
    return this.routeChecked(stanza, session);
  }

  /** Routing of a client's stanza once the outbound filters and the sender gate passed it. */
  routeChecked(stanza: XmlElement, session: Session): void | Promise<void> {
    if (stanza.name === 'presence') return this.presence?.fromClient(stanza, session);
    const to = stanza.attrs.to === undefined ? undefined : Jid.parse(stanza.attrs.to);
    if (stanza.name === 'message')
      return this.routeMessage(stanza, to ?? Jid.parse(session.bare), session);
    return this.routeIq(stanza, to ?? Jid.parse(session.bare), session);
  }

  /** What the inbound filters say about delivering `stanza` to local account `to`. */
  inboundVerdict(stanza: XmlElement, to: string): 'continue' | 'drop' | StanzaError {
    for (const filter of this.inboundFilters) {
      const verdict = filter(stanza, to);
      if (verdict !== 'continue') return verdict;
    }
    return 'continue';
  }

  /** What the inbound checks say about a message for `to`, before the threat gate acts on it. */
  async inboundAdmission(
    stanza: XmlElement,
    to: string,
  ): Promise<'continue' | 'drop' | StanzaError> {
    for (const check of this.inboundChecks) {
      const verdict = await check(stanza, to);
      if (verdict !== 'continue') return verdict;
    }
    return 'continue';
  }

  /** For presence and other silent deliveries: may `stanza` reach local account `to`? */
  mayDeliver(stanza: XmlElement, to: string): boolean {
    return this.inboundFilters.length === 0 || this.inboundVerdict(stanza, to) === 'continue';
  }

  /** Throws the refusal, or returns false for 'drop'; true when delivery may go ahead. */
  private passInbound(stanza: XmlElement, to: string): boolean {
    if (this.inboundFilters.length === 0) return true;
    const verdict = this.inboundVerdict(stanza, to);
    if (verdict instanceof StanzaError) throw verdict;
    return verdict === 'continue';
  }

  private isLocal(jid: Jid): boolean {
    return jid.domain === this.ctx.domain;
  }

  private routeIq(iq: XmlElement, to: Jid, session: Session): void | Promise<void> {
    if (!this.isLocal(to))
      throw new StanzaError('remote-server-not-found', 'federation is off on this server');
    const type = iq.attrs.type!;
    if (type === 'result' || type === 'error') {
      if (to.isDomain) {
        // Only the session that was asked can answer the server's request.
        const waiting = this.awaiting.get(iq.attrs.id ?? '');
        if (waiting && waiting.from === iq.attrs.from) waiting.settle(iq);
        return;
      }
      // Responses go to the full JID that asked; nothing else is done with them.
      if (!to.isBare) this.ctx.sessions.get(to)?.send(iq);
      return;
    }
    if (to.isDomain) return this.answerIq(iq, to, session, this.hostIq);
    if (to.isBare) return this.answerIq(iq, to, session, this.accountIq);
    return this.iqToFullJid(iq, to, session);
  }

  private async iqToFullJid(iq: XmlElement, to: Jid, session: Session): Promise<void> {
    const target = this.ctx.sessions.get(to);
    // A stranger learns nothing from an IQ to a resource, not even whether it is online (T6, T7).
    if (!target || !(await this.mayReachResource(session, target))) {
      throw new StanzaError('service-unavailable');
    }
    if (this.passInbound(iq, target.bare)) target.send(iq);
  }

  /** Same account, approved contact, or someone the target sent directed presence to. */
  async mayReachResource(from: Session, target: Session): Promise<boolean> {
    if (from.bare === target.bare) return true;
    if (target.directedPresence.has(from.jid.full) || target.directedPresence.has(from.bare))
      return true;
    return this.presenceAuthority(target.bare, from.bare);
  }

  private async answerIq(
    iq: XmlElement,
    to: Jid,
    session: Session | undefined,
    handlers: Map<string, IqHandler>,
  ): Promise<void> {
    const payload = iq.elements()[0]!;
    const handler = handlers.get(`${iq.attrs.type} ${payload.xmlns ?? ''}`);
    if (!handler) throw new StanzaError('service-unavailable');
    const from = Jid.parse(iq.attrs.from!);
    if (handlers === this.accountIq) {
      if (!(await this.accountExists(to.bare))) throw new StanzaError('service-unavailable');
      // The server answers for the account, so the account's inbound rules apply.
      if (from.bare !== to.bare && !this.passInbound(iq, to.bare)) return;
    }
    const result = await handler(iq, { from, to, session });
    const reply = x(
      'iq',
      { type: 'result', id: iq.attrs.id, from: iq.attrs.to, to: iq.attrs.from },
      result,
    );
    this.sendTo(from, reply);
  }

  /**
   * Sends a get IQ from the server to a client (e.g. a XEP-0115 disco#info query); resolves with
   * its result or error, or undefined when it does not answer within `timeoutMs`.
   */
  askClient(
    session: Session,
    payload: XmlElement,
    timeoutMs = 10_000,
  ): Promise<XmlElement | undefined> {
    const id = `rampart-q-${randomUUID()}`;
    return new Promise((resolve) => {
      const settle = (reply: XmlElement | undefined) => {
        clearTimeout(timer);
        this.awaiting.delete(id);
        resolve(reply);
      };
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      timer.unref();
      this.awaiting.set(id, { from: session.jid.full, settle });
      session.send(
        x('iq', { type: 'get', id, from: this.ctx.domain, to: session.jid.full }, payload),
      );
    });
  }

  /** Sends a server-generated stanza to a local full JID (or all resources of a bare JID). */
  sendTo(to: Jid, stanza: XmlElement): void {
    if (to.isBare) for (const s of this.ctx.sessions.of(to.bare)) s.send(stanza);
    else this.ctx.sessions.get(to)?.send(stanza);
  }

  async accountExists(bare: string): Promise<boolean> {
    if (this.ctx.sessions.count(bare) > 0) return true;
    return (await this.ctx.storage.accounts.get(bare)) !== undefined;
  }

  private routeMessage(
    msg: XmlElement,
    to: Jid,
    session: Session | undefined,
  ): void | Promise<void> {
    if (!this.isLocal(to))
      throw new StanzaError('remote-server-not-found', 'federation is off on this server');
    if (to.isDomain) {
      if (session && msg.attrs.type !== 'error') return this.domainMessage?.(msg, session);
      return;
    }
    const delivering =
      session && this.messageGate
        ? this.messageGate(msg, to, session)
        : this.deliverMessage(msg, to, session);
    if (!session || this.messageTaps.length === 0) return delivering;
    const tapSent = () => {
      for (const tap of this.messageTaps) tap.sent?.(msg, session);
    };
    if (delivering) return delivering.then(tapSent);
    tapSent();
  }

  /** RFC 6121 §8.5: delivery of a message to a local account. */
  deliverMessage(msg: XmlElement, to: Jid, _from?: Session): void | Promise<void> {
    if (!this.passInbound(msg, to.bare)) return;
    if (this.deliveryGate?.(msg, to)) return;
    return this.deliverAdmitted(msg, to);
  }

  /** Delivery once the inbound filters and the delivery gate have let the message through. */
  deliverAdmitted(msg: XmlElement, to: Jid): void | Promise<void> {
    const type = msg.attrs.type ?? 'normal';
    if (!to.isBare) {
      const target = this.ctx.sessions.get(to);
      if (target) return this.sendToSessions(msg, to, [target]);
      if (type === 'groupchat') throw new StanzaError('service-unavailable');
      if (type === 'headline' || type === 'error') return;
    }
    if (type === 'groupchat') throw new StanzaError('service-unavailable');
    const recipients = this.ctx.sessions.available(to.bare).filter((s) => s.priority >= 0);
    if (recipients.length > 0) return this.sendToSessions(msg, to, recipients);
    if (type === 'headline' || type === 'error') return;
    return this.storeOffline(msg, to).then(() => this.tapDelivered(msg, to, []));
  }

  /** Live delivery; written ahead to storage when a recipient acks (a crash cannot lose it). */
  private sendToSessions(
    msg: XmlElement,
    to: Jid,
    recipients: readonly Session[],
  ): void | Promise<void> {
    const ahead = recipients.some((s) => s.confirmsDelivery)
      ? this.writeAhead?.(msg, to, recipients)
      : undefined;
    for (const s of recipients) s.send(msg, ahead?.receipt);
    this.tapDelivered(msg, to, recipients);
    if (ahead) this.durabilityOnly.add(ahead.written);
    return ahead?.written;
  }

  /**
   * Whether a delivery's promise only waits for the message to be safe against a crash, the
   * message having been sent already: whoever orders deliveries need not wait for it (the
   * sender's XEP-0198 ack still does).
   */
  isOnlyDurability(pending: Promise<void>): boolean {
    return this.durabilityOnly.has(pending);
  }

  private tapDelivered(msg: XmlElement, to: Jid, recipients: readonly Session[]): void {
    for (const tap of this.messageTaps) tap.delivered?.(msg, to, recipients);
  }

  private async storeOffline(msg: XmlElement, to: Jid): Promise<void> {
    if (!(await this.accountExists(to.bare))) throw new StanzaError('service-unavailable');
    if (!this.offline) throw new StanzaError('service-unavailable');
    await this.offline(msg, to.toBare());
  }

  /** Replies with an error to a stanza from a local session, if the rules allow one. */
  bounce(stanza: XmlElement, err: StanzaError): void {
    if (!mayReplyWithError(stanza) || stanza.attrs.from === undefined) return;
    this.sendTo(Jid.parse(stanza.attrs.from), errorReply(stanza, err));
  }
}
