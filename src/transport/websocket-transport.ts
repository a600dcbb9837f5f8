import type { TLSSocket } from 'node:tls';
import type { RawData, WebSocket } from 'ws';
import { normalizeAddress } from './address-limit.ts';
import { TlsChannelBindings } from './channel-binding.ts';
import type { Transport } from './transport.ts';

/** A peer that never answers our close frame is cut off after this long. */
const CLOSE_GRACE_MS = 5000;

/**
 * A Transport over one RFC 7395 WebSocket (the `ws` package) on the HTTPS listener. Each
 * write() is one text message, so callers write one top-level element at a time; each
 * received text message is one data() call. The connection is TLS from the start.
 */
export class WebSocketTransport implements Transport {
  readonly kind = 'websocket';
  readonly remoteAddress: string;
  private handlers: { data(chunk: Buffer): void; close(): void } | undefined;
  private readonly bindings: TlsChannelBindings | undefined;
  private corked = false;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    /** The TLS connection the WebSocket runs on (for channel binding and batching writes). */
    private readonly socket: TLSSocket,
    opts: { serverEndPoint: Buffer; channelBinding: boolean },
  ) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
    this.bindings = opts.channelBinding
      ? new TlsChannelBindings(socket, opts.serverEndPoint)
      : undefined;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        // RFC 7395 §3.2: XMPP travels in text messages only (RFC 6455 §7.4.1 code 1003).
        ws.close(1003, 'XMPP over WebSocket uses text messages');
        return;
      }
      this.handlers?.data(data as Buffer);
    });
    ws.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      this.handlers?.close();
    });
  }

  setHandlers(h: { data(chunk: Buffer): void; close(): void }): void {
    this.handlers = h;
  }

  isSecure(): boolean {
    return true;
  }

  canStartTls(): boolean {
    return false;
  }

  startTls(): void {
    throw new Error('a WebSocket connection is TLS from the start (RFC 7395 §3.8)');
  }

  channelBinding(type: string): Buffer | undefined {
    return this.bindings?.get(type);
  }

  advertisesChannelBinding(type: string): boolean {
    return this.bindings?.advertises(type) ?? false;
  }

  write(data: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    // Messages written in one tick leave in one TLS record where possible.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.ws.send(data);
  }

  pendingBytes(): number {
    return this.ws.bufferedAmount;
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  end(): void {
    if (this.ws.readyState === this.ws.CLOSED) return;
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  destroy(): void {
    this.ws.terminate();
  }
}
