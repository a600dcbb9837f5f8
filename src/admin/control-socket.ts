/**
 * The control socket: a unix socket in data_dir through which admin commands (the CLI, in
 * another process) tell the running server that the database changed under it, so the
 * change takes effect at once (sessions of a removed account end, roster pushes go out).
 * Protocol: one JSON object per line each way; every request line gets one answer line,
 * `{"ok":true}` or `{"ok":false,"error":"..."}`, in order.
 */

import { chmodSync } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import type { ThreatBlockKind } from '../storage/ports.ts';

const jidText = z.string().min(1).max(3071);
const blockKind = z.enum(['url', 'domain', 'sha256', 'file']);
const blockValue = z.string().min(1).max(8192);

export const controlEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('accountRemoved'), jid: jidText }).strict(),
  z.object({ type: z.literal('credentialsChanged'), jid: jidText }).strict(),
  z.object({ type: z.literal('rosterChanged'), owner: jidText, contact: jidText }).strict(),
  z.object({ type: z.literal('accountReleased'), jid: jidText }).strict(),
  z.object({ type: z.literal('artefactBlocked'), kind: blockKind, value: blockValue }).strict(),
  z.object({ type: z.literal('artefactUnblocked'), kind: blockKind, value: blockValue }).strict(),
  z.object({ type: z.literal('policyReload') }).strict(),
  z
    .object({
      type: z.literal('heldRelease'),
      ids: z.array(z.number().int().positive()).min(1).max(10_000),
    })
    .strict(),
]);

export type ControlEvent = z.infer<typeof controlEventSchema>;

export interface ControlHandlers {
  /** The account is gone: the server ends its sessions. */
  accountRemoved(jid: string): void | Promise<void>;
  /** The password changed: the server ends the account's sessions. */
  credentialsChanged(jid: string): void | Promise<void>;
  /** The owner's roster item for contact changed: push it (and presence) to online sessions. */
  rosterChanged(owner: string, contact: string): void | Promise<void>;
  /** An admin lifted the account's quarantine. */
  accountReleased(jid: string): void | Promise<void>;
  /** A server-wide block was added: refuse the artefact, purge delivered copies (T2). */
  artefactBlocked(kind: ThreatBlockKind, value: string): void | Promise<void>;
  artefactUnblocked(kind: ThreatBlockKind, value: string): void | Promise<void>;
  /** Re-read the config and apply its [policy] section; throws (old policy kept) when bad. */
  policyReload(): void | Promise<void>;
  /** Deliver these held messages (an admin's release) and remove them. */
  heldRelease(ids: number[]): void | Promise<void>;
}

export const CONTROL_SOCKET_NAME = 'control.sock';

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, CONTROL_SOCKET_NAME);
}

/** Longest request line accepted; events are tiny, so anything longer is abuse or a bug. */
const MAX_LINE_BYTES = 16 * 1024;
/** Idle connections are dropped after this long. */
const IDLE_TIMEOUT_MS = 30_000;
const NOTIFY_TIMEOUT_MS = 5_000;

/** Starts listening on `path` (mode 0600), replacing a stale socket left by a crashed server. */
export async function startControlServer(
  path: string,
  handlers: ControlHandlers,
): Promise<{ close(): Promise<void> }> {
  await removeStaleSocket(path);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, handlers);
  });
  server.maxConnections = 64;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket is created during listen(); a tight umask keeps it private from the start,
    // the chmod below covers processes where umask cannot be changed (worker threads).
    const previous = trySetUmask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      if (previous !== undefined) trySetUmask(previous);
    }
  });
  chmodSync(path, 0o600);
  server.on('error', () => {}); // errors after listening concern single connections

  return {
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(path).catch(() => {});
    },
  };
}

function trySetUmask(mask: number): number | undefined {
  try {
    return process.umask(mask);
  } catch {
    return undefined;
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  let stat: Awaited<ReturnType<typeof lstat>>;
  try {
    stat = await lstat(path);
  } catch {
    return; // nothing there
  }
  if (!stat.isSocket()) {
    throw new Error(`control socket path ${path} exists and is not a socket`);
  }
  if (await isAnswering(path)) {
    throw new Error(
      `control socket ${path} is in use: is another server running on this data_dir?`,
    );
  }
  await unlink(path);
}

function isAnswering(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

function serveConnection(socket: Socket, handlers: ControlHandlers): void {
  socket.setEncoding('utf8');
  socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => {});
  let buffer = '';
  // Answers go out in request order, so lines are handled one after another.
  let queue = Promise.resolve();
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      queue = queue.then(() => answer(socket, line, handlers));
      newline = buffer.indexOf('\n');
    }
    if (Buffer.byteLength(buffer) > MAX_LINE_BYTES) {
      buffer = '';
      queue = queue.then(() => {
        reply(socket, { ok: false, error: 'line too long' });
        socket.end();
      });
    }
  });
}

async function answer(socket: Socket, rawLine: string, handlers: ControlHandlers): Promise<void> {
  const line = rawLine.trim();
  if (line === '') return;
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
    reply(socket, { ok: false, error: 'line too long' });
    return;
  }
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    reply(socket, { ok: false, error: 'bad JSON' });
    return;
  }
  const parsed = controlEventSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    reply(socket, { ok: false, error: `bad event${where}: ${issue?.message ?? 'invalid'}` });
    return;
  }
  try {
    await dispatch(parsed.data, handlers);
    reply(socket, { ok: true });
  } catch (err) {
    reply(socket, {
      ok: false,
      error: `handler failed: ${(err as Error)?.message ?? String(err)}`,
    });
  }
}

function dispatch(event: ControlEvent, handlers: ControlHandlers): void | Promise<void> {
  switch (event.type) {
    case 'accountRemoved':
      return handlers.accountRemoved(event.jid);
    case 'credentialsChanged':
      return handlers.credentialsChanged(event.jid);
    case 'rosterChanged':
      return handlers.rosterChanged(event.owner, event.contact);
    case 'accountReleased':
      return handlers.accountReleased(event.jid);
    case 'artefactBlocked':
      return handlers.artefactBlocked(event.kind, event.value);
    case 'artefactUnblocked':
      return handlers.artefactUnblocked(event.kind, event.value);
    case 'policyReload':
      return handlers.policyReload();
    case 'heldRelease':
      return handlers.heldRelease(event.ids);
  }
}

function reply(socket: Socket, body: { ok: true } | { ok: false; error: string }): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(body)}\n`);
}

/**
 * Tells the server running on `dataDir` about a committed change and waits for its "ok".
 * When no server is listening this is a no-op: the next start reads the database anyway.
 */
export function notifyServer(dataDir: string, event: ControlEvent): Promise<void> {
  return notifyServerMany(dataDir, [event]);
}

/** Thrown by askServer when no server is running on the data directory. */
export class NoServerError extends Error {
  override readonly name = 'NoServerError';
}

/** Like notifyServer for a request only a running server can carry out (policy reload). */
export function askServer(dataDir: string, event: ControlEvent): Promise<void> {
  return notifyServerMany(dataDir, [event], NOTIFY_TIMEOUT_MS, true);
}

/** Like notifyServer, for several events over one connection (bulk imports). */
export function notifyServerMany(
  dataDir: string,
  events: readonly ControlEvent[],
  timeoutMs = NOTIFY_TIMEOUT_MS,
  requireServer = false,
): Promise<void> {
  if (events.length === 0) return Promise.resolve();
  const path = controlSocketPath(dataDir);
  return new Promise((resolve, reject) => {
    let pending = events.length;
    let buffer = '';
    let settled = false;
    const socket = createConnection(path);
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new Error('the running server did not answer on its control socket')),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      socket.write(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline !== -1 && !settled) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const answer = parseAnswer(line);
        if (answer.ok) {
          pending -= 1;
          if (pending === 0) finish();
        } else {
          finish(new Error(`the running server refused the change: ${answer.error}`));
        }
        newline = buffer.indexOf('\n');
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // No server: nothing to tell, unless only the server can do what is asked.
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        finish(
          requireServer
            ? new NoServerError(`no Rampart server is running on ${dataDir}`)
            : undefined,
        );
      } else finish(new Error(`control socket: ${err.message}`));
    });
    socket.on('close', () => {
      finish(new Error('the running server closed its control socket before answering'));
    });
  });
}

function parseAnswer(line: string): { ok: true } | { ok: false; error: string } {
  try {
    const body = JSON.parse(line) as { ok?: unknown; error?: unknown };
    if (body.ok === true) return { ok: true };
    return { ok: false, error: typeof body.error === 'string' ? body.error : 'unknown error' };
  } catch {
    return { ok: false, error: 'unreadable answer' };
  }
}
