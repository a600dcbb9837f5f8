import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import { normalizeAddress } from './address-limit.ts';
import { TlsChannelBindings } from './channel-binding.ts';
import type { Transport } from './transport.ts';

/** A Transport over a TCP socket, either plain (STARTTLS-able) or already TLS. */
export class SocketTransport implements Transport {
  readonly kind = 'tcp';
  readonly remoteAddress: string;
  private socket: Socket;
  private handlers: { data(chunk: Buffer): void; close(): void } | undefined;
  private corked = false;
  private closed = false;

  constructor(
    socket: Socket,
    private readonly secureContext: SecureContext,
    /** RFC 5929 tls-server-end-point data of our certificate. */
    private readonly serverEndPoint: Buffer,
  ) {
    this.socket = socket;
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.handlers?.data(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.socket !== socket || this.closed) return;
      this.closed = true;
      this.handlers?.close();
    });
  }

  setHandlers(h: { data(chunk: Buffer): void; close(): void }): void {
    this.handlers = h;
  }

  isSecure(): boolean {
    return this.socket instanceof TLSSocket && this.socket.encrypted === true;
  }

  canStartTls(): boolean {
    return !this.isSecure();
  }

  startTls(onSecure: () => void): void {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = new TLSSocket(plain, { isServer: true, secureContext: this.secureContext });
    this.socket = secure;
    // The plain socket's close now belongs to the TLS socket.
    plain.removeAllListeners('close');
    plain.on('close', () => secure.destroy());
    this.attach(secure);
    secure.once('secure', onSecure);
  }

  private bindings: TlsChannelBindings | undefined;

  channelBinding(type: string): Buffer | undefined {
    if (!this.isSecure()) return undefined;
    this.bindings ??= new TlsChannelBindings(this.socket as TLSSocket, this.serverEndPoint);
    return this.bindings.get(type);
  }

  advertisesChannelBinding(type: string): boolean {
    return this.channelBinding(type) !== undefined && this.bindings!.advertises(type);
  }

  tlsProtocol(): string | undefined {
    const s = this.socket;
    return s instanceof TLSSocket ? (s.getProtocol() ?? undefined) : undefined;
  }

  write(data: string): void {
    if (this.closed || this.socket.destroyed) return;
    // Stanzas written in one tick leave in one TCP segment where possible.
    if (!this.corked) {
      const socket = this.socket; // STARTTLS may swap this.socket before the tick ends
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    this.socket.write(data);
  }

  pendingBytes(): number {
    return this.socket.writableLength;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    if (this.socket.destroyed) return;
    this.socket.end();
    // A peer that never closes its side must not hold the socket open.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
