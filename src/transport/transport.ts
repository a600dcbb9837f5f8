/**
 * What the XMPP stream layer needs from a connection, whatever carries it
 * (TCP with STARTTLS, direct TLS, and WebSocket).
 */
export interface Transport {
  readonly remoteAddress: string;
  /** 'tcp' streams XML; 'websocket' carries one top-level element per frame (RFC 7395). */
  readonly kind: 'tcp' | 'websocket';
  isSecure(): boolean;
  canStartTls(): boolean;
  /** Upgrades to TLS in place; call right after writing <proceed/>. */
  startTls(onSecure: () => void): void;
  /** Channel-binding data for SCRAM-*-PLUS, or undefined when the type is unavailable. */
  channelBinding(type: string): Buffer | undefined;
  /** Whether to advertise a channel-binding type (XEP-0440); some are accepted but not advertised. */
  advertisesChannelBinding(type: string): boolean;
  /** On a WebSocket each write is one message, so it must hold one top-level element. */
  write(data: string): void;
  /** Bytes queued in user space that the peer has not read yet. */
  pendingBytes(): number;
  pause(): void;
  resume(): void;
  /** Flushes and closes. */
  end(): void;
  destroy(): void;
  setHandlers(h: { data(chunk: Buffer): void; close(): void }): void;
}
