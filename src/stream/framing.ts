import { NS } from '../stanza/namespaces.ts';
import { escapeAttr, type XmlElement } from '../xml/element.ts';
import {
  type XmlLimits,
  XmlStreamError,
  type XmlStreamHandlers,
  XmlStreamParser,
} from '../xml/stream-parser.ts';

/** RFC 7395 §3.3.2: the namespace of <open/> and <close/> on a WebSocket. */
export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

/** What reads one stream's input; a fresh one after each stream restart. */
export interface StreamInput {
  write(chunk: Uint8Array): void;
}

/**
 * How an XMPP stream is laid out on its transport: one XML document over TCP (RFC 6120 §4),
 * or one document per WebSocket message (RFC 7395). Everything else about the stream (the
 * phases, limits, SASL, binding, stanza rules) is the same and lives in C2sStream.
 */
export interface StreamFraming {
  createInput(limits: XmlLimits, handlers: XmlStreamHandlers): StreamInput;
  /** What is wrong with the client's opening element (invalid-namespace), if anything. */
  checkOpen(name: string, uri: string, attrs: Record<string, string>): string | undefined;
  header(id: string, domain: string): string;
  footer(): string;
  /** One top-level element as it goes on the wire. */
  serialize(el: XmlElement): string;
}

function headerAttrs(id: string, domain: string): string {
  return `id='${escapeAttr(id)}' from='${escapeAttr(domain)}' version='1.0' xml:lang='en'`;
}

export const tcpFraming: StreamFraming = {
  createInput: (limits, handlers) => new XmlStreamParser(limits, handlers),
  checkOpen(name, uri, attrs) {
    if (uri !== NS.stream || name.split(':').pop() !== 'stream')
      return 'the root element must be <stream:stream/>';
    if (attrs.xmlns !== NS.client) return 'the content namespace must be jabber:client';
    return undefined;
  },
  header: (id, domain) =>
    `<?xml version='1.0'?><stream:stream xmlns='${NS.client}' xmlns:stream='${NS.stream}' ${headerAttrs(id, domain)}>`,
  footer: () => '</stream:stream>',
  serialize: (el) => el.toString(),
};

export const websocketFraming: StreamFraming = {
  createInput: (limits, handlers) => new FramedInput(limits, handlers),
  checkOpen: (name, uri) =>
    name === 'open' && uri === NS_FRAMING
      ? undefined
      : `the first element must be <open xmlns='${NS_FRAMING}'/>`,
  header: (id, domain) => `<open xmlns='${NS_FRAMING}' ${headerAttrs(id, domain)}/>`,
  footer: () => `<close xmlns='${NS_FRAMING}'/>`,
  // RFC 7395 §3.3.3: every message is a document of its own, with its namespaces declared.
  serialize(el) {
    if (el.name.startsWith('stream:'))
      return el.withAttrs({ 'xmlns:stream': NS.stream }).toString();
    if (el.attrs.xmlns === undefined) return el.withAttrs({ xmlns: NS.client }).toString();
    return el.toString();
  },
};

/** An optional XML declaration at the start of a message (RFC 7395 §3.3.3: not recommended). */
const XML_DECLARATION = /^\s*<\?xml\s[^<>]*\?>/;

/**
 * RFC 7395 input: each WebSocket message holds exactly one complete element. The messages
 * are fed, one after another, to a single XmlStreamParser inside an implicit root that makes
 * jabber:client the default namespace, so the parser's limits apply unchanged; the elements
 * of a message are handed on only once the message proved to be exactly one element.
 */
class FramedInput implements StreamInput {
  private readonly parser: XmlStreamParser;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly inMessage: XmlElement[] = [];
  private opened = false;

  constructor(
    limits: XmlLimits,
    private readonly handlers: XmlStreamHandlers,
  ) {
    this.parser = new XmlStreamParser(limits, {
      onStreamStart: () => {},
      onStanza: (el) => this.inMessage.push(el),
      // The implicit root is never closed by the client: a stray end tag is a framing error.
      onStreamEnd: () => {
        throw new XmlStreamError('not-well-formed', 'an end tag without its element');
      },
    });
    this.parser.writeText(`<ws xmlns='${NS.client}'>`);
  }

  write(chunk: Uint8Array): void {
    let text: string;
    try {
      text = this.decoder.decode(chunk);
    } catch {
      throw new XmlStreamError('not-well-formed', 'invalid UTF-8');
    }
    text = text.replace(XML_DECLARATION, '');
    // Text around the element would sit in the parser until the next tag: check it here.
    const t = text.trim();
    const bare = t !== '' && (t[0] !== '<' || t[t.length - 1] !== '>');
    this.inMessage.length = 0;
    this.parser.writeText(text);
    if (bare || this.parser.openElements > 0 || this.inMessage.length > 1) {
      throw new XmlStreamError(
        'not-well-formed',
        'each WebSocket message must hold exactly one complete XML element (RFC 7395 §3.3.1)',
      );
    }
    const el = this.inMessage.pop();
    if (el) this.dispatch(el);
  }

  private dispatch(el: XmlElement): void {
    const { name } = el;
    const uri = el.xmlns ?? '';
    if (!this.opened) {
      this.opened = true;
      this.handlers.onStreamStart(name, uri, el.attrs);
      return;
    }
    if (uri === NS_FRAMING && name === 'close') return this.handlers.onStreamEnd();
    if (uri === NS_FRAMING && name === 'open')
      throw new XmlStreamError('not-well-formed', 'the stream is already open');
    this.handlers.onStanza(el);
  }
}
