import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { type RawData, WebSocket } from 'ws';
import {
  type ConnectOptions,
  type HeaderOptions,
  type LoginOptions,
  RawClient,
  type XmlElement,
  x,
} from './raw-client.ts';

/**
 * RawClient over XMPP-over-WebSocket (RFC 7395), with `ws` as the WebSocket client: the same
 * waiting, SCRAM (with channel binding from the underlying TLS socket) and binding, but
 * <open/>/<close/> framing, one element per message, and a check that every message the
 * server sends is exactly one complete element.
 */

export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

export interface WsConnectOptions extends Omit<ConnectOptions, 'directTls' | 'tls'> {
  /** Sec-WebSocket-Protocol values offered (default ['xmpp']). */
  protocols?: string[];
  /** Origin header, as a browser would send it; none by default. */
  origin?: string;
  path?: string;
  maxPayload?: number;
}

/** The HTTP answer when the server refused the WebSocket upgrade. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with HTTP ${status}: ${body}`);
  }
}

export class WsClient extends RawClient {
  /** Close code and reason of the WebSocket once closed. */
  closeCode: number | undefined;
  closeReason = '';
  /** Elements completed by the message being read (the server must send exactly one). */
  private inMessage = 0;

  private constructor(
    readonly ws: WebSocket,
    socket: TLSSocket,
    opts: WsConnectOptions,
  ) {
    super(socket, opts, false);
    // One parser for the connection: each message is read as a child of an implicit root.
    this.onData(Buffer.from('<ws>'));
    this.events.pop(); // that root is not a stream header
    this.header = undefined;
    ws.on('message', (data: RawData, isBinary: boolean) =>
      this.onMessage(data as Buffer, isBinary),
    );
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.onClose();
    });
    ws.on('error', () => {});
  }

  static override connect(opts: WsConnectOptions): Promise<WsClient> {
    const url = `wss://${opts.host ?? '127.0.0.1'}:${opts.port}${opts.path ?? '/xmpp-websocket'}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts.protocols ?? ['xmpp'], {
        rejectUnauthorized: false,
        ...(opts.origin === undefined ? {} : { origin: opts.origin }),
        ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
        ...(opts.maxPayload === undefined ? {} : { maxPayload: opts.maxPayload }),
      });
      let socket: TLSSocket | undefined;
      ws.once('upgrade', (res: IncomingMessage) => {
        socket = res.socket as TLSSocket;
      });
      ws.once('unexpected-response', (_req, res: IncomingMessage) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString('utf8');
        });
        res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body.trim())));
        res.on('error', () => reject(new UpgradeRefused(res.statusCode ?? 0, body.trim())));
      });
      ws.once('error', reject);
      ws.once('open', () => {
        ws.off('error', reject);
        resolve(new WsClient(ws, socket!, opts));
      });
    });
  }

  /** Opens the stream, authenticates with SCRAM, restarts it, binds. */
  static override async login(opts: LoginOptions & WsConnectOptions): Promise<WsClient> {
    const c = await WsClient.connect(opts);
    try {
      c.answerPings = opts.answerPings ?? true;
      await c.openStream();
      const outcome = await c.authenticate(opts.username, opts.password, opts.scram);
      if (!outcome.ok)
        throw new Error(`login of ${opts.username} failed: ${outcome.condition} ${outcome.text}`);
      await c.openStream();
      await c.bind(opts.resource);
      return c;
    } catch (err) {
      c.destroy();
      throw err;
    }
  }

  /** The subprotocol the server accepted. */
  get protocol(): string {
    return this.ws.protocol;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.events.push({ kind: 'parse-error', message: 'the server sent a binary message' });
      return;
    }
    this.inMessage = 0;
    this.onData(data);
    if (this.depth !== 1 || this.inMessage !== 1) {
      this.events.push({
        kind: 'parse-error',
        message: `a message held ${this.inMessage} complete elements (RFC 7395 wants one): ${data.toString().slice(0, 200)}`,
      });
    }
  }

  protected override onElement(el: XmlElement): void {
    this.inMessage++;
    if (el.xmlns === NS_FRAMING && el.name === 'open') {
      const { xmlns: _, ...attrs } = el.attrs;
      this.header = attrs;
      this.events.push({ kind: 'header', attrs });
      return;
    }
    if (el.xmlns === NS_FRAMING && el.name === 'close') {
      this.events.push({ kind: 'end' });
      return;
    }
    super.onElement(el);
  }

  /** One text message, as given. */
  override write(data: string | Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data, { binary: false });
  }

  sendBinary(data: Uint8Array): void {
    this.ws.send(data, { binary: true });
  }

  /** RFC 7395 §3.4 <open/> (a new stream each time, as after SASL); waits for the features. */
  override openStream(opts: HeaderOptions = {}): Promise<XmlElement> {
    this.features = undefined;
    const to = opts.to === undefined ? this.domain : opts.to;
    const version = opts.version === undefined ? '1.0' : opts.version;
    this.send(
      x('open', {
        xmlns: opts.xmlns ?? NS_FRAMING,
        ...(to === null ? {} : { to }),
        ...(version === null ? {} : { version }),
      }),
    );
    return this.next(
      (e) => e.name === 'features' && e.xmlns === 'http://etherx.jabber.org/streams',
      'stream features',
    );
  }

  override startTls(): Promise<void> {
    throw new Error('no STARTTLS over WebSocket');
  }

  /** RFC 7395 §3.6: <close/>; the server answers <close/> and closes the WebSocket. */
  override close(): void {
    this.send(x('close', { xmlns: NS_FRAMING }));
  }

  override destroy(): void {
    this.ws.terminate();
  }
}
