import type { ServerContext } from '../server/context.ts';

/**
 * limits.max_connections_per_address (T5), counted over every transport at once, so a client
 * cannot double its share by mixing TCP and WebSocket.
 */
export class ConnectionsPerAddress {
  private readonly counts = new Map<string, number>();

  constructor(private readonly ctx: ServerContext) {}

  /** Counts a connection; returns its release function, or undefined (and an event) when over the cap. */
  admit(address: string, transport: 'tcp' | 'websocket'): (() => void) | undefined {
    const cap = this.ctx.config.limits.max_connections_per_address;
    const n = (this.counts.get(address) ?? 0) + 1;
    if (n > cap) {
      this.ctx.events.record({
        threat: 'T5',
        rule: 'connections.per-address',
        actor: address,
        address,
        verdict: 'refuse',
        evidence: { limit: cap, transport },
      });
      return undefined;
    }
    this.counts.set(address, n);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(address) ?? 1) - 1;
      if (left <= 0) this.counts.delete(address);
      else this.counts.set(address, left);
    };
  }
}

/** The address as users know it: IPv4-mapped IPv6 addresses in their IPv4 form. */
export function normalizeAddress(addr: string | undefined): string {
  if (!addr) return 'unknown';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}
