import { randomUUID } from 'node:crypto';
import { type Client, client, type XmlElement, xml } from '@xmpp/client';
import { WebSocket as NodeWebSocket } from 'ws';

/**
 * @xmpp/client (xmpp.js) driven from tests: log in over STARTTLS or direct TLS, collect every
 * stanza, wait for matching ones with a timeout, and send iqs that resolve with the reply
 * (result or error) so a test can assert on the exact stanza the server sent.
 */

export type { XmlElement };
export { xml };

export interface XmppJsOptions {
  port: number;
  username: string;
  password: string;
  /** Omit to let the server generate one (RFC 6120 §7.6). */
  resource?: string;
  /** Connect to the XEP-0368 direct-TLS port instead of STARTTLS. */
  directTls?: boolean;
  /** `port` is the HTTPS port: XMPP over WebSocket (RFC 7395) at /xmpp-websocket. */
  websocket?: boolean;
  domain?: string;
  timeoutMs?: number;
}

export interface XmppJsClient {
  xmpp: Client;
  /** Full JID the server bound. */
  jid: string;
  bare: string;
  /** SASL mechanism xmpp.js chose from the server's offer. */
  mechanism: string;
  /** Negotiated TLS version, e.g. 'TLSv1.3'. */
  tlsProtocol: string | null;
  /** Every stanza received, in order. */
  received: XmlElement[];
  send(el: XmlElement): Promise<void>;
  /** Resolves with the first not yet consumed stanza that matches (already received or later). */
  waitFor(
    match: (el: XmlElement) => boolean,
    label: string,
    timeoutMs?: number,
  ): Promise<XmlElement>;
  /** Fails if a matching stanza was received or arrives within `ms`. */
  expectNone(match: (el: XmlElement) => boolean, label: string, ms: number): Promise<void>;
  /** Sends an iq and resolves with its reply, whether `result` or `error`. */
  iq(el: XmlElement, timeoutMs?: number): Promise<XmlElement>;
  stop(): Promise<void>;
}

// xmpp.js passes no TLS options through (STARTTLS upgrades with only `{ host }`), so the only
// way to accept the test server's self-signed certificate is Node's own switch. It is read by
// tls.connect() on each call, so it is turned on only while a test client is connecting.
let insecureDepth = 0;
async function withSelfSignedAccepted<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  insecureDepth++;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  try {
    return await fn();
  } finally {
    insecureDepth--;
    if (insecureDepth === 0) {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    }
  }
}

interface Waiter {
  match: (el: XmlElement) => boolean;
  resolve: (el: XmlElement) => void;
}

export async function connectXmppJs(opts: XmppJsOptions): Promise<XmppJsClient> {
  const domain = opts.domain ?? 'localhost';
  const scheme = opts.directTls ? 'xmpps' : 'xmpp';
  // xmpp.js uses the global WebSocket, which Node 20 lacks; `ws` honours the
  // self-signed switch below like the TCP transports do, on every Node version.
  if (opts.websocket) globalThis.WebSocket = NodeWebSocket as unknown as typeof WebSocket;
  let mechanism = '';
  const xmpp = client({
    service: opts.websocket
      ? `wss://localhost:${opts.port}/xmpp-websocket`
      : `${scheme}://127.0.0.1:${opts.port}`,
    domain,
    ...(opts.resource === undefined ? {} : { resource: opts.resource }),
    // xmpp.js gives each step 2 s by default, too short on a loaded test machine.
    timeout: opts.timeoutMs ?? 10_000,
    credentials: async (authenticate, mechanisms) => {
      mechanism = mechanisms[0] ?? '';
      await authenticate({ username: opts.username, password: opts.password }, mechanism);
    },
  });
  // A test wants to see a disconnect, not have it papered over by a silent reconnect.
  xmpp.reconnect.stop();
  // RFC 6121 §2.1.6: a client acknowledges roster pushes (tests still see them as stanzas).
  xmpp.iqCallee.set('jabber:iq:roster', 'query', () => true);
  // XEP-0012 to a full JID asks the client; an online client is active right now. (The server
  // may also forward a bare-JID query to the user's resource.)
  xmpp.iqCallee.get('jabber:iq:last', 'query', () =>
    xml('query', { xmlns: 'jabber:iq:last', seconds: '0' }),
  );

  const received: XmlElement[] = [];
  const pending: XmlElement[] = [];
  const waiters: Waiter[] = [];
  const errors: Error[] = [];
  xmpp.on('error', (err: Error) => {
    errors.push(err);
  });
  xmpp.on('stanza', (el: XmlElement) => {
    received.push(el);
    const i = waiters.findIndex((w) => w.match(el));
    if (i >= 0) {
      const [w] = waiters.splice(i, 1);
      w?.resolve(el);
    } else {
      pending.push(el);
    }
  });

  const timeoutMs = opts.timeoutMs ?? 10_000;
  const jid = await withSelfSignedAccepted(() =>
    withTimeout(xmpp.start(), timeoutMs, `${opts.username}: login`),
  ).catch(async (err: unknown) => {
    await xmpp.stop().catch(() => {});
    const extra = errors.length
      ? ` (client errors: ${errors.map((e) => e.message).join('; ')})`
      : '';
    // @xmpp errors often carry only a condition (SASL or stream error), not a message.
    const e = err as Error & { condition?: string; text?: string; code?: string };
    const detail = [e.name, e.condition, e.code, e.text].filter(Boolean).join(' ');
    throw new Error(`${e.message} [${detail}]${extra}`);
  });

  const tlsSocket = xmpp.socket?.socket as { getProtocol?: () => string | null } | undefined;

  const waitFor = (match: (el: XmlElement) => boolean, label: string, ms = 5000) => {
    const i = pending.findIndex(match);
    if (i >= 0) {
      const [el] = pending.splice(i, 1);
      return Promise.resolve(el as XmlElement);
    }
    return new Promise<XmlElement>((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (el) => {
          clearTimeout(timer);
          resolve(el);
        },
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(
          new Error(
            `${jid}: timed out after ${ms} ms waiting for ${label}; received:\n${received
              .map((e) => `  ${e.toString()}`)
              .join('\n')}`,
          ),
        );
      }, ms);
      waiters.push(waiter);
    });
  };

  return {
    xmpp,
    jid: jid.toString(),
    bare: jid.bare().toString(),
    mechanism,
    tlsProtocol: tlsSocket?.getProtocol?.() ?? null,
    received,
    send: (el) => xmpp.send(el),
    waitFor,
    async expectNone(match, label, ms) {
      await new Promise((r) => setTimeout(r, ms));
      const leaked = received.filter(match);
      if (leaked.length > 0) {
        throw new Error(
          `${jid}: received ${label}, which must not happen:\n${leaked.map((e) => `  ${e.toString()}`).join('\n')}`,
        );
      }
    },
    async iq(el, ms = 5000) {
      const id = el.attrs.id ?? randomUUID();
      el.attrs.id = id;
      const reply = waitFor(
        (s) =>
          s.name === 'iq' &&
          s.attrs.id === id &&
          (s.attrs.type === 'result' || s.attrs.type === 'error'),
        `reply to iq ${id} ${el.toString()}`,
        ms,
      );
      await xmpp.send(el);
      return reply;
    },
    async stop() {
      await withTimeout(xmpp.stop(), 5000, `${jid}: stop`).catch(() => {});
    },
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Bare JID of a stanza's `from`, or '' when absent. */
export function bareOf(address: string | undefined): string {
  if (!address) return '';
  const slash = address.indexOf('/');
  return slash < 0 ? address : address.slice(0, slash);
}

/** The defined error condition element name inside an error stanza, e.g. 'forbidden'. */
export function errorCondition(el: XmlElement): string | undefined {
  const error = el.getChild('error');
  return error?.children
    .filter((c): c is XmlElement => typeof c !== 'string')
    .find((c) => c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text')
    ?.name;
}
