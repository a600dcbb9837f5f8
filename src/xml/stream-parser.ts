import { SaxesParser, type SaxesTagNS } from 'saxes';
import { XmlElement } from './element.ts';

/** RFC 6120 §4.9.3 stream error conditions the parser can raise. */
export type XmlStreamErrorCondition =
  | 'not-well-formed'
  | 'restricted-xml'
  | 'policy-violation'
  | 'unsupported-encoding';

export class XmlStreamError extends Error {
  override readonly name = 'XmlStreamError';
  constructor(
    readonly condition: XmlStreamErrorCondition,
    message: string,
  ) {
    super(message);
  }
}

export interface XmlLimits {
  /** Largest stanza, counted in characters of its serialized form. */
  maxStanzaBytes: number;
  maxDepth: number;
  maxAttributes: number;
  maxTextBytes: number;
}

export interface XmlStreamHandlers {
  /** The stream's root opened; `attrs` are its attributes (namespace declarations included). */
  onStreamStart(name: string, uri: string, attrs: Record<string, string>): void;
  /** A complete first-level element (a stanza, or a stream-level element such as <starttls/>). */
  onStanza(el: XmlElement): void;
  onStreamEnd(): void;
}

/**
 * Parses one XML stream (RFC 6120 §4) incrementally, with limits. A fresh instance is
 * needed after each stream restart (TLS, SASL). Raises XmlStreamError from write();
 * after that the parser is unusable and the caller closes the stream.
 */
export class XmlStreamParser {
  private readonly sax = new SaxesParser({ xmlns: true, position: true });
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly stack: XmlElement[] = [];
  /** Namespace of each open element, parallel to `stack`. */
  private readonly uris: string[] = [];
  private streamUri = '';
  private started = false;
  private ended = false;
  /** Parser position where the current stanza, or the gap between stanzas, began. */
  private mark = 0;
  /** Characters fed so far: saxes' `position` over-counts by the last chunk between writes. */
  private consumed = 0;
  private failure: XmlStreamError | undefined;

  constructor(
    private readonly limits: XmlLimits,
    private readonly handlers: XmlStreamHandlers,
  ) {
    const sax = this.sax;
    sax.on('error', (err) => {
      throw this.fail('not-well-formed', err.message);
    });
    sax.on('doctype', () => {
      throw this.fail('restricted-xml', 'DTDs are not allowed in XMPP streams');
    });
    sax.on('comment', () => {
      throw this.fail('restricted-xml', 'comments are not allowed in XMPP streams');
    });
    sax.on('processinginstruction', () => {
      throw this.fail('restricted-xml', 'processing instructions are not allowed in XMPP streams');
    });
    sax.on('xmldecl', (decl) => {
      if (decl.encoding !== undefined && decl.encoding.toLowerCase() !== 'utf-8') {
        throw this.fail('unsupported-encoding', 'XMPP streams are UTF-8');
      }
    });
    sax.on('opentag', (tag) => this.open(tag));
    sax.on('closetag', () => this.close());
    sax.on('text', (text) => this.text(text));
    sax.on('cdata', (text) => this.text(text));
  }

  /** Feeds bytes from the transport. Throws XmlStreamError on any violation. */
  write(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (this.ended) return;
    let s: string;
    try {
      s = this.decoder.decode(chunk, { stream: true });
    } catch {
      throw this.fail('not-well-formed', 'invalid UTF-8');
    }
    this.writeText(s);
  }

  /** Feeds already-decoded text (WebSocket text frames). */
  writeText(s: string): void {
    if (this.failure) throw this.failure;
    if (this.ended) return;
    try {
      this.sax.write(s);
    } catch (err) {
      if (err instanceof XmlStreamError) throw err;
      throw this.fail('not-well-formed', (err as Error).message);
    }
    this.consumed += s.length;
    // Text and attribute values accumulate inside saxes until the next tag, so the size
    // limit is checked after every chunk, and again when a stanza completes (close()).
    if (this.consumed - this.mark > this.limits.maxStanzaBytes) {
      throw this.fail('policy-violation', `stanza larger than ${this.limits.maxStanzaBytes} bytes`);
    }
  }

  /** Elements opened and not yet closed inside the root (0 between stanzas). */
  get openElements(): number {
    return this.stack.length;
  }

  private fail(condition: XmlStreamErrorCondition, message: string): XmlStreamError {
    this.failure ??= new XmlStreamError(condition, message);
    return this.failure;
  }

  private open(tag: SaxesTagNS): void {
    if (!this.started) {
      this.started = true;
      const attrs: Record<string, string> = {};
      for (const a of Object.values(tag.attributes)) attrs[a.name] = a.value;
      this.streamUri = tag.ns[''] ?? '';
      this.mark = this.sax.position;
      this.handlers.onStreamStart(tag.name, tag.uri, attrs);
      return;
    }
    const depth = this.stack.length + 1;
    if (depth > this.limits.maxDepth) {
      throw this.fail('policy-violation', `elements nested deeper than ${this.limits.maxDepth}`);
    }
    const attrs: Record<string, string> = {};
    let count = 0;
    for (const a of Object.values(tag.attributes)) {
      if (++count > this.limits.maxAttributes) {
        throw this.fail('policy-violation', `more than ${this.limits.maxAttributes} attributes`);
      }
      if (a.name !== 'xmlns') attrs[a.name] = a.value;
      // A prefixed attribute keeps its declaration, so the stanza serializes on its own.
      if (a.prefix !== '' && a.prefix !== 'xml' && a.prefix !== 'xmlns')
        attrs[`xmlns:${a.prefix}`] = a.uri;
    }
    const parentUri = this.uris.length === 0 ? this.streamUri : this.uris[this.uris.length - 1]!;
    // First-level elements always carry their namespace; children only where it changes.
    if (this.stack.length === 0 || tag.uri !== parentUri) attrs.xmlns = tag.uri;
    const el = new XmlElement(tag.local, attrs);
    if (this.stack.length > 0) this.stack[this.stack.length - 1]!.children.push(el);
    this.stack.push(el);
    this.uris.push(tag.uri);
  }

  private close(): void {
    const el = this.stack.pop();
    this.uris.pop();
    if (el === undefined) {
      this.ended = true;
      this.handlers.onStreamEnd();
      return;
    }
    if (this.stack.length === 0) {
      if (this.sax.position - this.mark > this.limits.maxStanzaBytes) {
        throw this.fail(
          'policy-violation',
          `stanza larger than ${this.limits.maxStanzaBytes} bytes`,
        );
      }
      this.mark = this.sax.position;
      this.handlers.onStanza(el);
    }
  }

  private text(text: string): void {
    if (text.length > this.limits.maxTextBytes) {
      throw this.fail(
        'policy-violation',
        `text node longer than ${this.limits.maxTextBytes} bytes`,
      );
    }
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      // Whitespace between stanzas is allowed (keepalives); character data is not.
      if (text.trim() !== '') throw this.fail('not-well-formed', 'text outside a stanza');
      this.mark = this.sax.position; // keepalives are not part of the next stanza
      return;
    }
    const last = top.children[top.children.length - 1];
    if (typeof last === 'string') top.children[top.children.length - 1] = last + text;
    else top.children.push(text);
  }
}
