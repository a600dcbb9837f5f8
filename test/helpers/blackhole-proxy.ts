import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';

/**
 * A TCP relay between a client and the server that can "cut" its connections the way a dead
 * network path does: from then on it forwards nothing in either direction and closes nothing,
 * so neither side sees a FIN or a reset (the server keeps a half-dead socket, as when a phone
 * drops off the network). Connections opened after the cut are relayed normally.
 */
export interface BlackholeProxy {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Silences every connection open now. */
  cut(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  cut: boolean;
}

export async function startBlackholeProxy(targetPort: number): Promise<BlackholeProxy> {
  const pairs = new Set<Pair>();
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = netConnect({ host: '127.0.0.1', port: targetPort });
    const pair: Pair = { client, upstream, cut: false };
    pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const relay = (from: Socket, to: Socket) => {
      from.on('data', (d: Buffer) => {
        if (!pair.cut) to.write(d);
      });
      // Only a live pair passes a close on; a cut one keeps the other side open and silent.
      from.on('close', () => {
        if (!pair.cut) to.destroy();
      });
      from.on('error', () => {});
    };
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('the proxy has no port');
  return {
    port: address.port,
    get accepted() {
      return accepted;
    },
    cut() {
      for (const pair of pairs) pair.cut = true;
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
