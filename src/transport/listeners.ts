import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { ServerContext } from '../server/context.ts';
import { C2sStream } from '../stream/c2s-stream.ts';
import { ConnectionsPerAddress, normalizeAddress } from './address-limit.ts';
import { SocketTransport } from './socket-transport.ts';

export interface C2sListeners {
  streams: Set<C2sStream>;
  /** Shared with the WebSocket endpoint. */
  perAddress: ConnectionsPerAddress;
  close(): Promise<void>;
}

/**
 * The c2s listeners: STARTTLS on c2s_port, direct TLS (XEP-0368) on c2s_tls_port, with a
 * cap on concurrent connections per address (T5).
 */
export async function startC2sListeners(
  ctx: ServerContext,
): Promise<C2sListeners & { ports: { c2s: number; c2sTls: number } }> {
  const streams = new Set<C2sStream>();
  const perAddress = new ConnectionsPerAddress(ctx);

  const admit = (socket: Socket): boolean => {
    const release = perAddress.admit(normalizeAddress(socket.remoteAddress), 'tcp');
    if (!release) {
      socket.destroy();
      return false;
    }
    socket.once('close', release);
    return true;
  };

  const open = (socket: Socket): void => {
    const transport = new SocketTransport(socket, ctx.secureContext, ctx.tls.serverEndPoint);
    const stream = new C2sStream(ctx, transport, (s) => streams.delete(s));
    streams.add(stream);
  };

  const plain = createNetServer({ noDelay: true }, (socket) => {
    if (admit(socket)) open(socket);
  });
  const direct = createTlsServer(
    {
      key: ctx.tls.key,
      cert: ctx.tls.cert,
      minVersion: ctx.config.tls.min_version,
      handshakeTimeout: 15_000,
    },
    (socket: TLSSocket) => open(socket),
  );
  direct.on('connection', (socket: Socket) => {
    admit(socket);
  });
  direct.on('tlsClientError', () => {});

  const listen = (server: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: ctx.config.bind, backlog: 1024 }, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });

  const c2s = await listen(plain, ctx.config.c2s_port);
  const c2sTls = await listen(direct, ctx.config.c2s_tls_port);

  return {
    streams,
    perAddress,
    ports: { c2s, c2sTls },
    close: async () => {
      await Promise.all([
        new Promise<void>((r) => plain.close(() => r())),
        new Promise<void>((r) => direct.close(() => r())),
      ]);
    },
  };
}
