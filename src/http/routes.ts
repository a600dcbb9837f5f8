import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers one HTTP request; `path` is the URL path without the query. */
export type HttpHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
) => void | Promise<void>;

/**
 * Request dispatch by path prefix for the HTTPS listener, so features (upload, the web client,
 * ...) add their routes without touching the server. The longest matching prefix wins.
 */
export class HttpRoutes {
  private readonly routes: { prefix: string; handler: HttpHandler }[] = [];

  /** `prefix` starts with '/'; '/upload/' matches '/upload/anything'. */
  add(prefix: string, handler: HttpHandler): void {
    this.routes.push({ prefix, handler });
    this.routes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  find(path: string): HttpHandler | undefined {
    return this.routes.find((r) => path.startsWith(r.prefix))?.handler;
  }
}

/** Ends a response with a small JSON body (errors and reasons people can read). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
