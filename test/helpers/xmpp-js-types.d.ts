// @xmpp/client 0.14 ships no type declarations; this is the small part the tests use.
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';

  export interface XmlElement {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (XmlElement | string)[];
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): XmlElement | undefined;
    getChildren(name: string, xmlns?: string): XmlElement[];
    getChildText(name: string, xmlns?: string): string | null;
    getNS(): string | undefined;
    text(): string;
    toString(): string;
  }

  export interface XmppJid {
    toString(): string;
    bare(): XmppJid;
    local: string;
    domain: string;
    resource: string;
  }

  type Authenticate = (
    credentials: { username: string; password: string },
    mechanism: string,
    userAgent?: unknown,
  ) => Promise<void>;

  export interface ClientOptions {
    service: string;
    domain?: string;
    resource?: string;
    /** Each protocol step's wait (stream open, SASL and bind answers); 2000 ms by default. */
    timeout?: number;
    username?: string;
    password?: string;
    credentials?: (authenticate: Authenticate, mechanisms: string[]) => Promise<void>;
  }

  export interface Client extends EventEmitter {
    jid: XmppJid | null;
    status: string;
    reconnect: { stop(): void };
    iqCallee: {
      get(ns: string, name: string, handler: (ctx: unknown) => unknown): void;
      set(ns: string, name: string, handler: (ctx: unknown) => unknown): void;
    };
    start(): Promise<XmppJid>;
    stop(): Promise<void>;
    send(...elements: XmlElement[]): Promise<void>;
    isSecure(): boolean;
    socket: { socket: unknown } | null;
  }

  export function client(options: ClientOptions): Client;
  export function xml(
    name: string,
    attrs?: Record<string, string | undefined> | null,
    ...children: (XmlElement | string)[]
  ): XmlElement;
}
