import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Duplex } from 'node:stream';
import type { ServerContext } from '../server/context.ts';
import { type HttpRoutes, refuseUpgrade, sendJson } from './routes.ts';

export interface HttpsServer {
  port: number;
  /** Marks every listener as up: /healthz answers 200 from then on. */
  setReady(ready: boolean): void;
  close(): Promise<void>;
}

export interface HttpsOptions {
  /** Longest time a request (headers and body) may take; uploads need long ones. */
  requestTimeoutMs?: number;
}

/** The HTTPS listener: health check, and the routes features register (upload, ...). */
export async function startHttpsServer(
  ctx: ServerContext,
  routes: HttpRoutes,
  opts: HttpsOptions = {},
): Promise<HttpsServer> {
  let ready = false;
  const server: Server = createServer(
    { key: ctx.tls.key, cert: ctx.tls.cert, minVersion: ctx.config.tls.min_version },
    (req, res) => {
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('cache-control', 'no-store');
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
        res.statusCode = ready ? 200 : 503;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ status: ready ? 'ok' : 'starting', domain: ctx.domain }));
        return;
      }
      const handler = routes.find(path);
      if (handler === undefined) {
        sendJson(res, 404, { error: 'not found' });
        return;
      }
      Promise.resolve(handler(req, res, path)).catch((err: unknown) => {
        ctx.log.error({ err, path }, 'HTTP handler failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    },
  );
  server.headersTimeout = 10_000;
  server.requestTimeout = Math.max(30_000, opts.requestTimeoutMs ?? 0);
  server.on('tlsClientError', () => {});
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const handler = routes.findUpgrade((req.url ?? '/').split('?')[0] ?? '/');
    if (handler) handler(req, socket, head);
    else refuseUpgrade(socket, 404, 'No WebSocket endpoint at this path.');
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: ctx.config.https_port, host: ctx.config.bind }, () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : ctx.config.https_port);
    });
  });
  return {
    port,
    setReady: (r) => {
      ready = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
