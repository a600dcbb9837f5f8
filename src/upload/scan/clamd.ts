import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';

/**
 * A small client for clamd's INSTREAM command: "zINSTREAM\0", then the data as chunks each
 * prefixed with its length (4 bytes, big-endian), then a zero length; clamd answers
 * "stream: OK" or "stream: <signature> FOUND" (or "... ERROR") and a NUL.
 */

export type ClamdAddress = { socket: string } | { host: string; port: number };

export type ClamdVerdict = { ok: true } | { ok: false; signature: string };

/** clamd could not give a verdict: down, timed out, or answered with an error. */
export class ClamdUnavailable extends Error {
  override readonly name = 'ClamdUnavailable';
}

const MAX_CHUNK = 64 * 1024;

export async function clamdScan(
  address: ClamdAddress,
  data: Readable,
  timeoutMs: number,
): Promise<ClamdVerdict> {
  const sock: Socket =
    'socket' in address ? connect(address.socket) : connect(address.port, address.host);
  let reply = '';
  const answered = new Promise<string>((resolve, reject) => {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      reply += d;
      if (reply.includes('\0')) resolve(reply.slice(0, reply.indexOf('\0')));
    });
    sock.once('end', () => resolve(reply.replace(/\0.*$/s, '')));
    sock.once('error', (err) => reject(new ClamdUnavailable(`clamd: ${err.message}`)));
  });
  // Keep a rejection that arrives while we are still writing from going unhandled.
  answered.catch(() => {});
  const timer = setTimeout(
    () => sock.destroy(new Error(`no verdict within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', (err) => reject(new ClamdUnavailable(`clamd: ${err.message}`)));
    });
    await write(sock, Buffer.from('zINSTREAM\0', 'latin1'));
    for await (const chunk of data as AsyncIterable<Buffer>) {
      for (let i = 0; i < chunk.length; i += MAX_CHUNK) {
        const part = chunk.subarray(i, i + MAX_CHUNK);
        const len = Buffer.alloc(4);
        len.writeUInt32BE(part.length);
        await write(sock, Buffer.concat([len, part]));
      }
      // clamd answers early (e.g. size limit exceeded) and stops reading: stop sending.
      if (reply.length > 0) break;
    }
    if (reply.length === 0) await write(sock, Buffer.alloc(4));
    return parseReply((await answered).trim());
  } catch (err) {
    if (err instanceof ClamdUnavailable) throw err;
    throw new ClamdUnavailable(`clamd: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    data.destroy();
    sock.destroy();
  }
}

/** clamd's engine and signature database version ("ClamAV 1.4.6/27830/Mon Nov 23 ..."). */
export function clamdVersion(address: ClamdAddress, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock =
      'socket' in address ? connect(address.socket) : connect(address.port, address.host);
    let reply = '';
    const fail = (why: string) => {
      sock.destroy();
      reject(new ClamdUnavailable(`clamd: ${why}`));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write('zVERSION\0'));
    sock.on('data', (d: string) => {
      reply += d;
      if (!reply.includes('\0')) return;
      clearTimeout(timer);
      sock.destroy();
      resolve(reply.slice(0, reply.indexOf('\0')).trim());
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      fail(err.message);
    });
  });
}

function write(sock: Socket, buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (sock.destroyed) {
      reject(new ClamdUnavailable('clamd closed the connection'));
      return;
    }
    sock.write(buf, (err) => (err ? reject(err) : resolve()));
  });
}

/** Parses "stream: OK" / "stream: Eicar-Signature FOUND"; anything else is unavailability. */
export function parseReply(line: string): ClamdVerdict {
  const body = line.replace(/^stream:\s*/, '');
  if (body === 'OK') return { ok: true };
  const found = /^(.+) FOUND$/.exec(body);
  if (found) return { ok: false, signature: found[1]! };
  throw new ClamdUnavailable(`clamd: ${line || 'empty reply'}`);
}
