import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
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

  /** Channel-binding data is fixed once TLS is up; features and SASL ask for it repeatedly. */
  private readonly bindings = new Map<string, Buffer | undefined>();

  channelBinding(type: string): Buffer | undefined {
    if (!this.isSecure()) return undefined;
    if (!this.bindings.has(type)) this.bindings.set(type, this.computeBinding(type));
    return this.bindings.get(type);
  }

  private computeBinding(type: string): Buffer | undefined {
    const s = this.socket;
    if (!(s instanceof TLSSocket)) return undefined;
    if (type === 'tls-exporter') {
      // RFC 9266: only where the exporter is safe, i.e. TLS 1.3.
      if (s.getProtocol() !== 'TLSv1.3') return undefined;
      return s.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
    }
    if (type === 'tls-server-end-point') return this.serverEndPoint;
    if (type === 'tls-unique') {
      // RFC 5929 §3.1: the first Finished message of the handshake (the client's on a full
      // handshake, ours on a resumed one). Defined for TLS 1.2; accepted on TLS 1.3 as well,
      // where Python clients (slixmpp) still send it: each TLS 1.3 Finished covers the whole
      // transcript, so a man in the middle, with two different handshakes, cannot match it.
      return s.isSessionReused() ? s.getFinished() : s.getPeerFinished();
    }
    return undefined;
  }

  advertisesChannelBinding(type: string): boolean {
    if (this.channelBinding(type) === undefined) return false;
    // RFC 9266: tls-unique is not defined for TLS 1.3, so it is not offered there.
    return !(type === 'tls-unique' && this.tlsProtocol() === 'TLSv1.3');
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

function normalizeAddress(addr: string | undefined): string {
  if (!addr) return 'unknown';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}
