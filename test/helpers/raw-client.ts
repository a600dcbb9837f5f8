import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { XmlElement, x } from '../../src/xml/element.ts';

/**
 * A deliberately small XMPP client that speaks raw bytes over node:net / node:tls, so tests
 * can send anything (malformed headers, forged stanzas, junk) and assert exactly what the
 * server writes back. It parses the server's output with its own saxes parser (not the
 * server's), implements STARTTLS, SCRAM-SHA-1/256(-PLUS) with node:crypto, and binding.
 */

/** Namespaces spelled out here rather than imported, so a typo in the server shows up. */
export const ns = {
  client: 'jabber:client',
  stream: 'http://etherx.jabber.org/streams',
  streamErrors: 'urn:ietf:params:xml:ns:xmpp-streams',
  stanzaErrors: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  tls: 'urn:ietf:params:xml:ns:xmpp-tls',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  roster: 'jabber:iq:roster',
  discoInfo: 'http://jabber.org/protocol/disco#info',
  ping: 'urn:xmpp:ping',
  version: 'jabber:iq:version',
  last: 'jabber:iq:last',
} as const;

export { XmlElement, x };

/** What arrived from the server, in order. Elements carry their resolved namespace in `xmlns`. */
export type StreamEvent =
  | { kind: 'header'; attrs: Record<string, string> }
  | { kind: 'element'; el: XmlElement }
  | { kind: 'end' }
  | { kind: 'parse-error'; message: string }
  | { kind: 'closed' };

export interface ConnectOptions {
  port: number;
  host?: string;
  /** Connect to the XEP-0368 port: TLS from the first byte. */
  directTls?: boolean;
  /** Source address, e.g. '127.0.0.7', to look like a different client to per-address limits. */
  localAddress?: string;
  /** Extra TLS options (minVersion, maxVersion, ciphers...). */
  tls?: ConnectionOptions;
  domain?: string;
  /** Default wait for anything the client waits for. */
  timeoutMs?: number;
}

export interface HeaderOptions {
  to?: string | null;
  version?: string | null;
  xmlns?: string;
  streamNs?: string;
  /** Appended inside the header tag verbatim (extra namespace declarations...). */
  extra?: string;
}

export interface ScramOptions {
  mechanism?: 'SCRAM-SHA-256' | 'SCRAM-SHA-1' | 'SCRAM-SHA-256-PLUS' | 'SCRAM-SHA-1-PLUS';
  /** For -PLUS: which binding; defaults to tls-exporter on TLS 1.3, else tls-server-end-point. */
  cbType?: 'tls-exporter' | 'tls-server-end-point';
  /** Replaces the real channel-binding data (to prove the server checks it). */
  cbData?: Buffer;
  /** Overrides the GS2 channel-binding flag: 'y' claims "I could bind but you don't offer it". */
  gs2Flag?: 'n' | 'y';
  authzid?: string;
}

export type SaslOutcome =
  | { ok: true }
  | { ok: false; condition: string; text: string | undefined; failure: XmlElement };

export interface LoginOptions extends ConnectOptions {
  username: string;
  password: string;
  /** Omit to let the server generate one. */
  resource?: string;
  scram?: ScramOptions;
  /** Answer the server's XEP-0199 pings automatically (default true). */
  answerPings?: boolean;
  /** Extra text in the last stream header (the one stanzas travel in). */
  headerExtra?: string;
}

export const TEST_DOMAIN = 'localhost';

export function streamHeader(opts: HeaderOptions = {}, domain = TEST_DOMAIN): string {
  const to = opts.to === undefined ? domain : opts.to;
  const version = opts.version === undefined ? '1.0' : opts.version;
  return (
    `<?xml version='1.0'?><stream:stream xmlns='${opts.xmlns ?? ns.client}'` +
    ` xmlns:stream='${opts.streamNs ?? ns.stream}'` +
    (to === null ? '' : ` to='${to}'`) +
    (version === null ? '' : ` version='${version}'`) +
    ` xml:lang='en'${opts.extra ? ` ${opts.extra}` : ''}>`
  );
}

interface Waiter {
  match: (el: XmlElement) => boolean;
  resolve: (el: XmlElement) => void;
  reject: (err: Error) => void;
  label: string;
  timer: NodeJS.Timeout;
}

let idCounter = 0;
export function nextId(prefix = 'raw'): string {
  return `${prefix}-${++idCounter}-${randomBytes(3).toString('hex')}`;
}

export class RawClient {
  readonly events: StreamEvent[] = [];
  readonly domain: string;
  readonly timeoutMs: number;
  /** The server's latest stream header attributes. */
  header: Record<string, string> | undefined;
  /** The latest <stream:features/>. */
  features: XmlElement | undefined;
  /** Full JID after bind. */
  jid: string | undefined;
  answerPings = false;
  pingsAnswered = 0;
  /** Server pings seen (answered or not). */
  readonly pings: XmlElement[] = [];
  isClosed = false;

  private socket: Socket | TLSSocket;
  private parser: SaxesParser | undefined;
  private decoder = new TextDecoder('utf-8');
  private stack: XmlElement[] = [];
  private readonly queue: XmlElement[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly closeWaiters: (() => void)[] = [];

  /** `listen` false: a subclass reads the socket itself (WebSocket framing). */
  protected constructor(socket: Socket | TLSSocket, opts: ConnectOptions, listen = true) {
    this.socket = socket;
    this.domain = opts.domain ?? TEST_DOMAIN;
    this.timeoutMs = opts.timeoutMs ?? 4000;
    this.resetParser();
    if (listen) this.attach(socket);
  }

  /** Opens a TCP (or direct TLS) connection; resolves once it is connected. */
  static connect(opts: ConnectOptions): Promise<RawClient> {
    const host = opts.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      const base = {
        host,
        port: opts.port,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      };
      const socket = opts.directTls
        ? tlsConnect({
            ...base,
            servername: opts.domain ?? TEST_DOMAIN,
            rejectUnauthorized: false,
            ...opts.tls,
          })
        : netConnect(base);
      const onError = (err: Error) => reject(err);
      socket.once('error', onError);
      socket.once(opts.directTls ? 'secureConnect' : 'connect', () => {
        socket.off('error', onError);
        resolve(new RawClient(socket, opts));
      });
    });
  }

  /** Connects, negotiates TLS and SCRAM, binds; the client is ready for stanzas. */
  static async login(opts: LoginOptions): Promise<RawClient> {
    const c = await RawClient.connect(opts);
    try {
      c.answerPings = opts.answerPings ?? true;
      await c.openStream();
      if (!opts.directTls) {
        await c.startTls();
        await c.openStream();
      }
      const outcome = await c.authenticate(opts.username, opts.password, opts.scram);
      if (!outcome.ok)
        throw new Error(`login of ${opts.username} failed: ${outcome.condition} ${outcome.text}`);
      await c.openStream(opts.headerExtra ? { extra: opts.headerExtra } : {});
      await c.bind(opts.resource);
      return c;
    } catch (err) {
      c.destroy();
      throw err;
    }
  }

  get tlsSocket(): TLSSocket | undefined {
    return 'encrypted' in this.socket ? (this.socket as TLSSocket) : undefined;
  }

  get bare(): string {
    const j = this.jid ?? '';
    const slash = j.indexOf('/');
    return slash === -1 ? j : j.slice(0, slash);
  }

  private attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
  }

  protected resetParser(): void {
    const p = new SaxesParser({ xmlns: true });
    this.decoder = new TextDecoder('utf-8');
    this.stack = [];
    p.on('opentag', (tag) => this.onOpen(tag));
    p.on('closetag', () => this.onCloseTag());
    p.on('text', (t) => this.onText(t));
    p.on('cdata', (t) => this.onText(t));
    p.on('error', (err) => {
      throw err;
    });
    this.parser = p;
  }

  protected onData(chunk: Buffer): void {
    const p = this.parser;
    if (!p) return;
    try {
      p.write(this.decoder.decode(chunk, { stream: true }));
    } catch (err) {
      this.parser = undefined;
      this.events.push({ kind: 'parse-error', message: (err as Error).message });
      this.failWaiters(`the server sent malformed XML: ${(err as Error).message}`);
    }
  }

  protected depth = 0;

  private onOpen(tag: SaxesTagNS): void {
    if (this.depth++ === 0) {
      const attrs: Record<string, string> = {};
      for (const a of Object.values(tag.attributes)) attrs[a.name] = a.value;
      this.header = attrs;
      this.events.push({ kind: 'header', attrs });
      return;
    }
    const attrs: Record<string, string> = {};
    for (const a of Object.values(tag.attributes)) {
      if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
      attrs[a.name] = a.value;
    }
    attrs.xmlns = tag.uri;
    const el = new XmlElement(tag.local, attrs);
    this.stack[this.stack.length - 1]?.children.push(el);
    this.stack.push(el);
  }

  private onCloseTag(): void {
    this.depth--;
    if (this.depth === 0) {
      this.events.push({ kind: 'end' });
      return;
    }
    const el = this.stack.pop();
    if (el && this.stack.length === 0) this.onElement(el);
  }

  private onText(t: string): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) return;
    const last = top.children[top.children.length - 1];
    if (typeof last === 'string') top.children[top.children.length - 1] = last + t;
    else top.children.push(t);
  }

  protected onElement(el: XmlElement): void {
    this.events.push({ kind: 'element', el });
    if (el.name === 'features' && el.xmlns === ns.stream) this.features = el;
    if (isServerPing(el, this.domain)) {
      this.pings.push(el);
      if (this.answerPings) {
        this.pingsAnswered++;
        this.send(x('iq', { type: 'result', id: el.attrs.id, to: el.attrs.from }));
        return;
      }
    }
    const i = this.waiters.findIndex((w) => w.match(el));
    if (i !== -1) {
      const [w] = this.waiters.splice(i, 1);
      clearTimeout(w!.timer);
      w!.resolve(el);
      return;
    }
    this.queue.push(el);
  }

  protected onClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.events.push({ kind: 'closed' });
    this.failWaiters('the connection closed');
    for (const w of this.closeWaiters.splice(0)) w();
  }

  private failWaiters(why: string): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`${why} while waiting for ${w.label}\n${this.describe()}`));
    }
  }

  /** A readable transcript of what arrived, for assertion messages. */
  describe(): string {
    return this.events
      .map((e) => {
        if (e.kind === 'header') return `  header ${JSON.stringify(e.attrs)}`;
        if (e.kind === 'element') return `  ${e.el.toString().slice(0, 400)}`;
        if (e.kind === 'parse-error') return `  parse-error: ${e.message}`;
        return `  ${e.kind}`;
      })
      .join('\n');
  }

  /** Writes raw bytes or text, unchanged. */
  write(data: string | Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  send(el: XmlElement | string): void {
    this.write(typeof el === 'string' ? el : el.toString());
  }

  /** Waits for (and consumes) the first element that matches, already received or not. */
  next(
    match: (el: XmlElement) => boolean = () => true,
    label = 'an element',
    timeoutMs = this.timeoutMs,
  ): Promise<XmlElement> {
    const i = this.queue.findIndex(match);
    if (i !== -1) return Promise.resolve(this.queue.splice(i, 1)[0]!);
    if (this.isClosed || !this.parser) {
      return Promise.reject(
        new Error(
          `the connection is ${this.isClosed ? 'closed' : 'broken'}; wanted ${label}\n${this.describe()}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        label,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${label}\n${this.describe()}`),
          );
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Fails if a matching element was received (and not consumed) or arrives within `ms`. */
  async expectNone(match: (el: XmlElement) => boolean, label: string, ms = 400): Promise<void> {
    let got: XmlElement | undefined;
    try {
      got = await this.next(match, label, ms);
    } catch (err) {
      if (/timed out|closed|broken/.test((err as Error).message)) return;
      throw err;
    }
    throw new Error(`expected no ${label}, got ${got.toString()}`);
  }

  /** Unconsumed elements (for tests that look at everything that came). */
  pending(): XmlElement[] {
    return [...this.queue];
  }

  /** Resolves once the socket is closed (by either side). */
  waitClosed(timeoutMs = this.timeoutMs): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`the connection stayed open for ${timeoutMs} ms\n${this.describe()}`)),
        timeoutMs,
      );
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Waits for a <stream:error/> and returns its condition (and text). */
  async streamError(timeoutMs = this.timeoutMs): Promise<{ condition: string; text?: string }> {
    const el = await this.next(
      (e) => e.name === 'error' && e.xmlns === ns.stream,
      'a stream error',
      timeoutMs,
    );
    return streamErrorOf(el);
  }

  /** Sends a stream header (fresh parser) and waits for the server's header and features. */
  async openStream(opts: HeaderOptions = {}): Promise<XmlElement> {
    this.resetParser();
    this.depth = 0;
    this.features = undefined;
    this.write(streamHeader(opts, this.domain));
    return this.next((e) => e.name === 'features' && e.xmlns === ns.stream, 'stream features');
  }

  /** STARTTLS (RFC 6120 §5): <starttls/>, <proceed/>, TLS handshake. Re-open the stream after. */
  async startTls(tlsOpts: ConnectionOptions = {}): Promise<void> {
    this.send(x('starttls', { xmlns: ns.tls }));
    await this.next((e) => e.name === 'proceed' && e.xmlns === ns.tls, '<proceed/>');
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tlsConnect({
      socket: plain,
      servername: this.domain,
      rejectUnauthorized: false,
      ...tlsOpts,
    });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  /** The SASL mechanisms the latest features offer. */
  mechanisms(): string[] {
    return (
      this.features
        ?.getChild('mechanisms', ns.sasl)
        ?.getChildren('mechanism')
        .map((m) => m.text()) ?? []
    );
  }

  /** SCRAM (RFC 5802, RFC 7677) over SASL (RFC 6120 §6), verifying the server's signature. */
  async authenticate(
    username: string,
    password: string,
    opts: ScramOptions = {},
  ): Promise<SaslOutcome> {
    const mechanism = opts.mechanism ?? 'SCRAM-SHA-256';
    const plus = mechanism.endsWith('-PLUS');
    const hash = mechanism.startsWith('SCRAM-SHA-256') ? 'sha256' : 'sha1';
    const tlsSocket = this.tlsSocket;
    const cbType =
      opts.cbType ??
      (tlsSocket?.getProtocol() === 'TLSv1.3' ? 'tls-exporter' : 'tls-server-end-point');
    const authzid = opts.authzid ? `a=${saslName(opts.authzid)}` : '';
    const gs2 = plus ? `p=${cbType},${authzid},` : `${opts.gs2Flag ?? 'n'},${authzid},`;
    const cnonce = randomBytes(18).toString('base64');
    const clientFirstBare = `n=${saslName(username)},r=${cnonce}`;
    this.send(
      x(
        'auth',
        { xmlns: ns.sasl, mechanism },
        Buffer.from(gs2 + clientFirstBare).toString('base64'),
      ),
    );
    const first = await this.nextSasl();
    if (first.name !== 'challenge') return failureOf(first);
    const serverFirst = Buffer.from(first.text(), 'base64').toString();
    const fields = parseScram(serverFirst);
    const nonce = fields.r ?? '';
    if (!nonce.startsWith(cnonce))
      throw new Error(`server nonce does not extend ours: ${serverFirst}`);
    const salt = Buffer.from(fields.s ?? '', 'base64');
    const iterations = Number(fields.i);
    const cbData: Buffer = plus
      ? (opts.cbData ?? channelBinding(tlsSocket, cbType))
      : Buffer.alloc(0);
    const channel = Buffer.concat([Buffer.from(gs2), cbData]).toString('base64');
    const finalWithoutProof = `c=${channel},r=${nonce}`;
    const authMessage = `${clientFirstBare},${serverFirst},${finalWithoutProof}`;
    const keyLen = hash === 'sha256' ? 32 : 20;
    const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, keyLen, hash);
    const clientKey = hmac(hash, salted, 'Client Key');
    const storedKey = createHash(hash).update(clientKey).digest();
    const signature = hmac(hash, storedKey, authMessage);
    const proof = Buffer.alloc(keyLen);
    for (let i = 0; i < keyLen; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.send(
      x(
        'response',
        { xmlns: ns.sasl },
        Buffer.from(`${finalWithoutProof},p=${proof.toString('base64')}`).toString('base64'),
      ),
    );
    const last = await this.nextSasl();
    if (last.name !== 'success') return failureOf(last);
    const serverFinal = parseScram(Buffer.from(last.text(), 'base64').toString());
    const expected = hmac(hash, hmac(hash, salted, 'Server Key'), authMessage);
    const got = Buffer.from(serverFinal.v ?? '', 'base64');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw new Error('the server signature is wrong: this is not the server that has our key');
    }
    return { ok: true };
  }

  private nextSasl(): Promise<XmlElement> {
    return this.next((e) => e.xmlns === ns.sasl, 'a SASL answer');
  }

  /** Resource binding (RFC 6120 §7); returns the full JID. */
  async bind(resource?: string): Promise<string> {
    const reply = await this.iq(
      x(
        'iq',
        { type: 'set' },
        x(
          'bind',
          { xmlns: ns.bind },
          resource === undefined ? undefined : x('resource', {}, resource),
        ),
      ),
    );
    const jid = reply.getChild('bind', ns.bind)?.getChildText('jid');
    if (reply.attrs.type !== 'result' || !jid) throw new Error(`bind failed: ${reply.toString()}`);
    this.jid = jid;
    return jid;
  }

  /** Sends an iq (an id is added when missing) and waits for its result or error. */
  iq(el: XmlElement, timeoutMs = this.timeoutMs): Promise<XmlElement> {
    const id = el.attrs.id ?? nextId('iq');
    el.attrs.id = id;
    this.send(el);
    return this.next(
      (e) =>
        e.name === 'iq' &&
        e.attrs.id === id &&
        (e.attrs.type === 'result' || e.attrs.type === 'error'),
      `the reply to iq ${id}`,
      timeoutMs,
    );
  }

  /** Ends the stream politely. */
  close(): void {
    this.write('</stream:stream>');
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function isServerPing(el: XmlElement, domain: string): boolean {
  return (
    el.name === 'iq' &&
    el.attrs.type === 'get' &&
    (el.attrs.from === undefined || el.attrs.from === domain) &&
    el.getChild('ping', ns.ping) !== undefined
  );
}

function hmac(hash: string, key: Buffer, data: string): Buffer {
  return createHmac(hash, key).update(data).digest();
}

function saslName(s: string): string {
  return s.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function parseScram(msg: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of msg.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

function channelBinding(socket: TLSSocket | undefined, type: string): Buffer {
  if (!socket) throw new Error('channel binding needs TLS');
  if (type === 'tls-exporter') {
    return socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
  }
  // RFC 5929 §4.1: the certificate hashed with its signature hash (SHA-256 for our test certs).
  return createHash('sha256').update(socket.getPeerX509Certificate()!.raw).digest();
}

function failureOf(el: XmlElement): SaslOutcome {
  const condition = el.elements().find((c) => c.name !== 'text')?.name ?? `<${el.name}/>`;
  return { ok: false, condition, text: el.getChildText('text'), failure: el };
}

/** The condition and text of a <stream:error/>. */
export function streamErrorOf(el: XmlElement): { condition: string; text?: string } {
  const cond = el.elements().find((c) => c.xmlns === ns.streamErrors && c.name !== 'text');
  const text = el.getChild('text', ns.streamErrors)?.text();
  return { condition: cond?.name ?? '(none)', ...(text === undefined ? {} : { text }) };
}

/** The defined condition of a stanza's <error/>, or undefined when it is not an error. */
export function stanzaErrorOf(el: XmlElement): string | undefined {
  if (el.attrs.type !== 'error') return undefined;
  const error = el.getChild('error');
  return error?.elements().find((c) => c.xmlns === ns.stanzaErrors && c.name !== 'text')?.name;
}

/** Matchers for next()/expectNone(). */
export const is = {
  message: (from?: string, body?: string) => (el: XmlElement) =>
    el.name === 'message' &&
    (from === undefined ||
      el.attrs.from === from ||
      el.attrs.from?.startsWith(`${from}/`) === true) &&
    (body === undefined || el.getChildText('body') === body),
  presence: (from?: string, type?: string) => (el: XmlElement) =>
    el.name === 'presence' &&
    (from === undefined ||
      el.attrs.from === from ||
      el.attrs.from?.startsWith(`${from}/`) === true) &&
    (type === undefined ? el.attrs.type === undefined : el.attrs.type === type),
  rosterPush: (jid?: string) => (el: XmlElement) =>
    el.name === 'iq' &&
    el.attrs.type === 'set' &&
    el.getChild('query', ns.roster) !== undefined &&
    (jid === undefined || el.getChild('query', ns.roster)?.getChild('item')?.attrs.jid === jid),
  any: () => true,
};

/** Logs users of one test server in over direct TLS and ends all their connections at once. */
export class ClientPool {
  private readonly clients: RawClient[] = [];

  constructor(
    private readonly port: () => number,
    private readonly password: string,
  ) {}

  async login(username: string, resource?: string, extra: Partial<LoginOptions> = {}) {
    const c = await RawClient.login({
      port: this.port(),
      directTls: true,
      username,
      password: this.password,
      ...(resource === undefined ? {} : { resource }),
      ...extra,
    });
    this.clients.push(c);
    return c;
  }

  destroyAll(): void {
    for (const c of this.clients.splice(0)) c.destroy();
  }
}
