import { randomUUID } from 'node:crypto';
import type { ServerContext } from '../server/context.ts';
import type { AccountBucketPair } from '../session/account-buckets.ts';
import { endSession } from '../session/end-session.ts';
import { type DeliveryReceipt, Session } from '../session/session.ts';
import {
  errorReply,
  mayReplyWithError,
  StanzaError,
  type StreamErrorCondition,
  streamError,
} from '../stanza/errors.ts';
import { Jid } from '../stanza/jid.ts';
import { NS } from '../stanza/namespaces.ts';
import { throttleNotice } from '../threat/flood/flood-notices.ts';
import { serverNotice } from '../threat/server-notice.ts';
import type { Transport } from '../transport/transport.ts';
import { TokenBucket } from '../util/token-bucket.ts';
import { type XmlElement, x } from '../xml/element.ts';
import { XmlStreamError } from '../xml/stream-parser.ts';
import { bindResource } from './bind.ts';
import { type StreamFraming, type StreamInput, tcpFraming, websocketFraming } from './framing.ts';
import { SaslNegotiation } from './sasl-negotiation.ts';
import { type ManagedSession, NS_SM, type SmLink, smFailed } from './stream-management.ts';

type Phase = 'tls' | 'auth' | 'bind' | 'established' | 'closed';

/** Largest amount of output a client may leave unread before it is cut off. */
const MAX_PENDING_OUTPUT = 8 * 1024 * 1024;

/**
 * One client-to-server XML stream (RFC 6120): header, features, STARTTLS, SASL, resource
 * binding, then stanzas, which it validates and stamps before handing them to the router.
 */
export class C2sStream implements SmLink {
  /** A new one for every stream restart (RFC 6120 §4.3.3). */
  id = randomUUID();
  readonly openedAt = Date.now();
  phase: Phase;
  /** Set once SASL succeeds. */
  account: string | undefined;
  session: Session | undefined;
  /** Time of the last byte received (liveness). */
  lastInbound = Date.now();
  /** Id of our unanswered ping, and when it was sent. */
  pingOutstanding: { id: string; sentAt: number } | undefined;

  private readonly framing: StreamFraming;
  private parser: StreamInput;
  private sasl: SaslNegotiation | undefined;
  private readonly byteBucket: TokenBucket;
  private readonly stanzaBucket: TokenBucket;
  private accountBuckets: AccountBucketPair | undefined;
  private pausedUntil = 0;
  private paused = false;
  private drainTimer: NodeJS.Timeout | undefined;
  /** Stanzas parsed while a rate bucket is in debt, in order (see drain()). */
  private readonly held: XmlElement[] = [];
  /** A bind is being completed (modules preparing); elements wait in duringBind. */
  private binding = false;
  private readonly duringBind: XmlElement[] = [];
  /** Our header for the current stream went out (a stream error must follow one, §4.9.1). */
  private headerSent = false;
  private lastThrottleEvent = 0;
  /** XEP-0198 state of this stream's session, once the client enabled it. */
  private managed: ManagedSession | undefined;
  /** The connection dropped (no </stream:stream>): a resumable session hibernates. */
  private dropped = false;

  constructor(
    private readonly ctx: ServerContext,
    readonly transport: Transport,
    private readonly onClosed: (stream: C2sStream) => void,
  ) {
    const l = ctx.config.limits;
    this.byteBucket = new TokenBucket(l.session_bytes_per_s, l.session_byte_burst);
    this.stanzaBucket = new TokenBucket(l.session_stanzas_per_s, l.session_stanza_burst);
    this.phase = transport.isSecure() ? 'auth' : 'tls';
    this.framing = transport.kind === 'websocket' ? websocketFraming : tcpFraming;
    this.parser = this.newParser();
    transport.setHandlers({
      data: (chunk) => this.onData(chunk),
      close: () => this.onTransportClosed(),
    });
  }

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  private newParser(): StreamInput {
    const l = this.ctx.config.limits;
    return this.framing.createInput(
      {
        maxStanzaBytes: l.max_stanza_bytes,
        maxDepth: l.max_depth,
        maxAttributes: l.max_attributes,
        maxTextBytes: l.max_text_bytes,
      },
      {
        onStreamStart: (name, uri, attrs) => this.onStreamStart(name, uri, attrs),
        onStanza: (el) => this.onElement(el),
        onStreamEnd: () => this.close(),
      },
    );
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.lastInbound = Date.now();
    this.pingOutstanding = undefined;
    try {
      this.parser.write(chunk);
    } catch (err) {
      if (err instanceof XmlStreamError) {
        this.ctx.log.debug(
          { err: err.message, address: this.remoteAddress },
          'stream error from parser',
        );
        this.close(err.condition, err.message);
        return;
      }
      this.ctx.log.error({ err }, 'unexpected error while processing input');
      this.close('internal-server-error');
      return;
    }
    this.throttle(this.byteBucket.take(chunk.length), 'rate.bytes');
    this.throttle(this.accountBuckets?.bytes.take(chunk.length) ?? 0, 'rate.account-bytes');
  }

  /** Pauses reading while a bucket is in debt (Prosody's mod_limits approach): no data is lost. */
  private throttle(waitMs: number, rule: string): void {
    if (waitMs <= 0 || this.phase === 'closed') return;
    const until = Date.now() + waitMs;
    if (until > this.pausedUntil) this.pausedUntil = until;
    if (!this.paused) {
      this.paused = true;
      this.transport.pause();
    }
    this.scheduleDrain();
    const now = Date.now();
    if (now - this.lastThrottleEvent > 60_000) {
      this.lastThrottleEvent = now;
      this.ctx.events.record({
        threat: 'T5',
        rule,
        actor: this.session?.jid.full ?? this.account ?? this.remoteAddress,
        address: this.remoteAddress,
        verdict: 'delay',
        evidence: { waitMs },
      });
      // The person is told too, once per episode (the same spacing as the event).
      this.session?.send(
        serverNotice(this.ctx.domain, this.session.jid.full, throttleNotice(), {
          threat: 'T5',
          rule,
        }),
      );
    }
  }

  private scheduleDrain(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = setTimeout(() => this.drain(), Math.max(0, this.pausedUntil - Date.now()));
  }

  /**
   * Stanzas that arrived in the same read as the one that emptied a bucket wait here until the
   * bucket is paid for: a burst inside one TCP segment is paced like any other (nothing dropped).
   */
  private drain(): void {
    this.drainTimer = undefined;
    while (this.held.length > 0 && this.phase !== 'closed') {
      if (Date.now() < this.pausedUntil) return this.scheduleDrain();
      this.processStanza(this.held.shift()!);
    }
    if (this.phase === 'closed') return;
    if (Date.now() < this.pausedUntil) return this.scheduleDrain();
    this.paused = false;
    this.transport.resume();
  }

  private onStreamStart(name: string, uri: string, attrs: Record<string, string>): void {
    // RFC 6120 §4.9.1.2: send our header even when theirs is wrong, then the error.
    this.sendHeader();
    const wrongOpen = this.framing.checkOpen(name, uri, attrs);
    if (wrongOpen !== undefined) {
      this.close('invalid-namespace', wrongOpen);
      return;
    }
    const to = Jid.tryParse(attrs.to);
    if (attrs.to !== undefined && to?.full !== this.ctx.domain) {
      this.close('host-unknown', `this server serves ${this.ctx.domain}`);
      return;
    }
    const version = attrs.version ?? '';
    if (!/^1\.\d+$/.test(version)) {
      this.close('unsupported-version', 'XMPP 1.0 streams only');
      return;
    }
    this.write(x('stream:features', {}, ...this.features()));
  }

  private sendHeader(): void {
    this.headerSent = true;
    this.transport.write(this.framing.header(this.id, this.ctx.domain));
  }

  /** One top-level element, framed for the transport (one WebSocket message each). */
  private write(el: XmlElement): void {
    this.transport.write(this.framing.serialize(el));
  }

  private features(): XmlElement[] {
    switch (this.phase) {
      case 'tls':
        // Nothing but STARTTLS is offered before TLS (RFC 6120 §5.3.1, T4).
        return [x('starttls', { xmlns: NS.tls }, x('required'))];
      case 'auth':
        return SaslNegotiation.features(this.ctx, this.transport);
      case 'bind': {
        const extra: XmlElement[] = [];
        this.ctx.hooks.emit('stream-features', extra);
        return [
          x('bind', { xmlns: NS.bind }),
          x('session', { xmlns: NS.session }, x('optional')),
          ...extra,
        ];
      }
      default:
        return [];
    }
  }

  private restartStream(): void {
    this.id = randomUUID();
    this.headerSent = false;
    this.parser = this.newParser();
  }

  private onElement(el: XmlElement): void {
    if (this.binding) {
      // Whatever a pipelining client sends after its bind request waits for the bind to finish.
      this.duringBind.push(el);
      return;
    }
    if (el.xmlns === NS_SM && (this.phase === 'bind' || this.phase === 'established'))
      return this.onSmElement(el);
    switch (this.phase) {
      case 'tls':
        return this.onPreTls(el);
      case 'auth':
        return this.onPreAuth(el);
      case 'bind':
        return this.onPreBind(el);
      case 'established':
        return this.onStanza(el);
      default:
        return;
    }
  }

  private onPreTls(el: XmlElement): void {
    if (el.name !== 'starttls' || el.xmlns !== NS.tls) {
      this.close('policy-violation', 'STARTTLS is required before anything else');
      return;
    }
    this.write(x('proceed', { xmlns: NS.tls }));
    this.transport.startTls(() => {
      this.phase = 'auth';
      this.restartStream();
    });
  }

  private onPreAuth(el: XmlElement): void {
    if (el.xmlns !== NS.sasl) {
      this.close('not-authorized', 'authenticate first');
      return;
    }
    this.sasl ??= new SaslNegotiation(
      this.ctx,
      this.transport,
      (bare) => {
        this.account = bare;
        this.phase = 'bind';
        this.sasl = undefined; // its state is not needed for the rest of the connection
        this.restartStream();
      },
      (condition, text) => this.close(condition, text),
    );
    this.sasl.handle(el).catch((err: unknown) => {
      this.ctx.log.error({ err }, 'SASL failure');
      this.close('internal-server-error');
    });
  }

  private onPreBind(el: XmlElement): void {
    const bind =
      el.name === 'iq' && el.attrs.type === 'set' ? el.getChild('bind', NS.bind) : undefined;
    if (!bind || this.account === undefined) {
      if (el.name === 'iq' && mayReplyWithError(el)) {
        this.write(errorReply(el, new StanzaError('not-authorized', 'bind a resource first')));
        return;
      }
      this.close('not-authorized', 'bind a resource first');
      return;
    }
    const result = bindResource(this.ctx, this.account, bind.getChildText('resource'));
    if (result instanceof StanzaError) {
      this.write(errorReply(el, result));
      return;
    }
    this.binding = true;
    // Modules load what they must know before the first stanza can reach the session
    // (the blocklist, the roster), so nothing slips past them in the first milliseconds.
    this.ctx.hooks
      .prepare(result.bare)
      .then(() => this.completeBind(el, result))
      .catch((err: unknown) => {
        this.ctx.log.error({ err }, 'binding a session failed');
        this.close('internal-server-error');
      })
      .finally(() => this.endBinding());
  }

  private endBinding(): void {
    this.binding = false;
    const queued = this.duringBind.splice(0);
    for (const q of queued) if (this.phase !== 'closed') this.onElement(q);
  }

  /** XEP-0198 nonzas: <enable/> after binding, <resume/> instead of binding, <r/>, <a/>. */
  private onSmElement(el: XmlElement): void {
    const sm = this.ctx.streamManagement;
    if (!sm.config.enabled) {
      this.close('unsupported-stanza-type', 'stream management is not enabled on this server');
      return;
    }
    const managed = this.managed;
    switch (el.name) {
      case 'enable':
        if (this.phase !== 'established' || managed) {
          this.send(smFailed('unexpected-request', managed ? 'already enabled' : 'bind first'));
          return;
        }
        this.managed = sm.enable(this.session!, this, el);
        return;
      case 'resume':
        return this.resume(el);
      case 'r':
      case 'a':
        if (!managed) break;
        if (el.name === 'r') managed.onRequest();
        else managed.onAck(el);
        return;
    }
    this.close('unsupported-stanza-type', `<${el.name}/> is not expected here`);
  }

  private resume(el: XmlElement): void {
    if (this.phase !== 'bind' || this.account === undefined) {
      this.send(smFailed('unexpected-request', 'resume after authenticating, instead of binding'));
      return;
    }
    this.binding = true;
    this.ctx.streamManagement
      .resume(this.account, this, el)
      .then((managed) => {
        if (!managed || this.phase === 'closed') return;
        this.managed = managed;
        this.session = managed.session;
        this.accountBuckets = this.ctx.accountBuckets.acquire(managed.session.bare);
        this.phase = 'established';
      })
      .catch((err: unknown) => {
        this.ctx.log.error({ err }, 'resuming a session failed');
        this.close('internal-server-error');
      })
      .finally(() => this.endBinding());
  }

  isOpen(): boolean {
    return this.phase !== 'closed';
  }

  handOver(): void {
    if (this.session) this.ctx.accountBuckets.release(this.session.bare);
    this.session = undefined;
    this.managed = undefined;
    this.close('conflict', 'this session was resumed on another connection');
  }

  private completeBind(el: XmlElement, result: Jid): void {
    if (this.phase === 'closed') return;
    const session = new Session(result, this.remoteAddress, {
      send: (stanza, receipt) => this.send(stanza, receipt),
      close: (condition, text) => this.close(condition, text),
    });
    const displaced = this.ctx.sessions.add(session);
    // RFC 6120 §7.7.2.2: the newer session wins the resource; the older is told why.
    displaced?.close('conflict', 'replaced by a new connection for the same resource');
    this.session = session;
    this.accountBuckets = this.ctx.accountBuckets.acquire(session.bare);
    this.phase = 'established';
    this.write(
      x(
        'iq',
        { type: 'result', id: el.attrs.id },
        x('bind', { xmlns: NS.bind }, x('jid', {}, result.full)),
      ),
    );
    this.ctx.hooks.emit('session-bound', session);
  }

  private onStanza(el: XmlElement): void {
    if (el.xmlns !== NS.client && this.ctx.hooks.nonza(el, this.session!)) return;
    if (
      el.xmlns !== NS.client ||
      (el.name !== 'message' && el.name !== 'presence' && el.name !== 'iq')
    ) {
      this.close(
        'unsupported-stanza-type',
        `<${el.name}/> in ${el.xmlns ?? 'no namespace'} is not a stanza`,
      );
      return;
    }
    if (this.held.length > 0 || Date.now() < this.pausedUntil) {
      this.held.push(el);
      return;
    }
    this.processStanza(el);
  }

  /** With stream management on, a stanza counts as handled once its handling has finished. */
  private processStanza(el: XmlElement): void {
    const counter = this.managed?.inbound;
    if (!counter) {
      this.handleStanza(el);
      return;
    }
    const seq = counter.begin();
    const pending = this.handleStanza(el);
    if (pending) void pending.finally(() => counter.end(seq));
    else counter.end(seq);
  }

  private handleStanza(el: XmlElement): Promise<void> | undefined {
    const session = this.session!;
    this.throttle(this.stanzaBucket.take(1), 'rate.stanzas');
    this.throttle(this.accountBuckets?.stanzas.take(1) ?? 0, 'rate.account-stanzas');
    if (el.attrs.from !== undefined) {
      const claimed = Jid.tryParse(el.attrs.from);
      if (!claimed || (claimed.full !== session.jid.full && claimed.full !== session.bare)) {
        this.ctx.events.record({
          threat: 'T4',
          rule: 'stanza.forged-from',
          actor: session.jid.full,
          address: this.remoteAddress,
          verdict: 'close',
          evidence: { claimed: el.attrs.from.slice(0, 300) },
        });
        this.close('invalid-from', 'the from address does not match this session');
        return undefined;
      }
    }
    // The server, not the client, says who sent a stanza (RFC 6120 §8.1.2.1).
    el.attrs.from = session.jid.full;
    delete el.attrs.xmlns;
    if (el.name === 'iq' && this.isOurPingReply(el)) return undefined;
    const problem = validateStanza(el);
    if (problem) {
      if (mayReplyWithError(el)) session.send(errorReply(el, problem));
      return undefined;
    }
    try {
      const pending = this.ctx.router.routeFromClient(el, session);
      if (pending) return pending.catch((err: unknown) => this.onRouteError(el, session, err));
    } catch (err) {
      this.onRouteError(el, session, err);
    }
    return undefined;
  }

  private onRouteError(el: XmlElement, session: Session, err: unknown): void {
    if (!(err instanceof StanzaError))
      this.ctx.log.error({ err, stanza: el.name }, 'error routing stanza');
    if (!mayReplyWithError(el)) return;
    const stanzaErr = err instanceof StanzaError ? err : new StanzaError('internal-server-error');
    session.send(errorReply(el, stanzaErr));
  }

  private isOurPingReply(el: XmlElement): boolean {
    const id = el.attrs.id;
    return (
      (el.attrs.type === 'result' || el.attrs.type === 'error') &&
      id !== undefined &&
      id.startsWith('rampart-ping-') &&
      (el.attrs.to === undefined || el.attrs.to === this.ctx.domain)
    );
  }

  /** Sends an XMPP ping from the server (XEP-0199) to check the client is alive. */
  sendPing(): void {
    if (this.phase !== 'established' || !this.session) return;
    const id = `rampart-ping-${randomUUID()}`;
    this.pingOutstanding = { id, sentAt: Date.now() };
    // Through the session, so stream management counts it like any stanza.
    this.session.send(
      x(
        'iq',
        { type: 'get', id, from: this.ctx.domain, to: this.session.jid.full },
        x('ping', { xmlns: NS.ping }),
      ),
    );
  }

  /** Without stream management a stanza counts as delivered once written to the socket. */
  send(el: XmlElement, receipt?: DeliveryReceipt): void {
    if (this.phase === 'closed') {
      receipt?.undelivered();
      return;
    }
    this.write(el);
    receipt?.delivered();
    if (this.transport.pendingBytes() > MAX_PENDING_OUTPUT) {
      this.close('policy-violation', 'the client is not reading its stream');
    }
  }

  /** Ends the stream, with a stream error when a condition is given. Idempotent. */
  close(condition?: StreamErrorCondition, text?: string, appCondition?: XmlElement): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    // A client that stops answering pings is treated like a dropped connection.
    this.dropped = condition === 'connection-timeout';
    if (condition && !this.headerSent) this.sendHeader();
    if (condition) this.write(streamError(condition, text, appCondition));
    this.transport.write(this.framing.footer());
    this.transport.end();
    this.cleanup();
  }

  private onTransportClosed(): void {
    if (this.phase !== 'closed') {
      this.phase = 'closed';
      this.dropped = true;
    }
    this.cleanup();
  }

  private cleaned = false;

  private cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    const session = this.session;
    if (session) {
      this.ctx.accountBuckets.release(session.bare);
      if (this.managed) this.managed.linkEnded(this, this.dropped);
      else endSession(this.ctx, session);
    }
    this.onClosed(this);
  }
}

const IQ_TYPES = new Set(['get', 'set', 'result', 'error']);
const PRESENCE_TYPES = new Set([
  'unavailable',
  'subscribe',
  'subscribed',
  'unsubscribe',
  'unsubscribed',
  'probe',
  'error',
]);

/** RFC 6120 §8.2.3 and RFC 6121 syntax checks; returns the error to answer, if any. */
function validateStanza(el: XmlElement): StanzaError | undefined {
  const to = el.attrs.to;
  if (to !== undefined && !Jid.tryParse(to))
    return new StanzaError('jid-malformed', 'the to address is not a valid JID');
  if (el.name === 'iq') {
    if (!el.attrs.id) return new StanzaError('bad-request', 'an IQ needs an id');
    const type = el.attrs.type ?? '';
    if (!IQ_TYPES.has(type)) return new StanzaError('bad-request', 'unknown IQ type');
    if ((type === 'get' || type === 'set') && el.elements().length !== 1) {
      return new StanzaError('bad-request', 'a get or set IQ carries exactly one payload');
    }
  } else if (el.name === 'presence') {
    const type = el.attrs.type;
    if (type !== undefined && !PRESENCE_TYPES.has(type))
      return new StanzaError('bad-request', 'unknown presence type');
  }
  return undefined;
}
