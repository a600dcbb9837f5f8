import type { TLSSocket } from 'node:tls';

/**
 * Channel-binding data of one TLS connection for SCRAM-*-PLUS (RFC 5929, RFC 9266), cached:
 * it is fixed once TLS is up, and features and SASL ask for it repeatedly.
 */
export class TlsChannelBindings {
  private readonly cache = new Map<string, Buffer | undefined>();

  constructor(
    private readonly socket: TLSSocket,
    /** RFC 5929 tls-server-end-point data of our certificate. */
    private readonly serverEndPoint: Buffer,
  ) {}

  get(type: string): Buffer | undefined {
    if (!this.cache.has(type)) this.cache.set(type, this.compute(type));
    return this.cache.get(type);
  }

  /** Whether to advertise a type (XEP-0440); some are accepted but not advertised. */
  advertises(type: string): boolean {
    if (this.get(type) === undefined) return false;
    // RFC 9266: tls-unique is not defined for TLS 1.3, so it is not offered there.
    return !(type === 'tls-unique' && this.socket.getProtocol() === 'TLSv1.3');
  }

  private compute(type: string): Buffer | undefined {
    const s = this.socket;
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
}
