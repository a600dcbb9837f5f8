import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** Answers one HTTP request; `path` is the URL path without the query. */
export type HttpHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
) => void | Promise<void>;

/** Takes over one HTTP upgrade request (WebSocket) and its socket. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * Request dispatch by path prefix for the HTTPS listener, so features (upload, the web client,
 * ...) add their routes without touching the server. The longest matching prefix wins.
 */
export class HttpRoutes {
  private readonly routes: { prefix: string; handler: HttpHandler }[] = [];
  private readonly upgrades = new Map<string, UpgradeHandler>();

  /** `prefix` starts with '/'; '/upload/' matches '/upload/anything'. */
  add(prefix: string, handler: HttpHandler): void {
    this.routes.push({ prefix, handler });
    this.routes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  find(path: string): HttpHandler | undefined {
    return this.routes.find((r) => path.startsWith(r.prefix))?.handler;
  }

  /** Upgrade requests go by exact path. */
  addUpgrade(path: string, handler: UpgradeHandler): void {
    this.upgrades.set(path, handler);
  }

  findUpgrade(path: string): UpgradeHandler | undefined {
    return this.upgrades.get(path);
  }
}

/** Answers an upgrade request with a plain HTTP error and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const reason = {
    400: 'Bad Request',
    403: 'Forbidden',
    404: 'Not Found',
    429: 'Too Many Requests',
  }[status];
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Ends a response with a small JSON body (errors and reasons people can read). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
