/**
 * The in-memory form of an XML element: stanzas and their payloads.
 * `attrs.xmlns` holds the element's namespace when it differs from its parent's
 * (the parser sets it; builders set it where a payload starts a namespace).
 */
export type XmlNode = XmlElement | string;

export class XmlElement {
  readonly name: string;
  attrs: Record<string, string>;
  children: XmlNode[];

  constructor(
    name: string,
    attrs: Record<string, string | undefined> = {},
    children: XmlNode[] = [],
  ) {
    this.name = name;
    this.attrs = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) this.attrs[k] = v;
    this.children = children;
  }

  get xmlns(): string | undefined {
    return this.attrs.xmlns;
  }

  /** First child element with this name (and namespace, when given). */
  getChild(name: string, xmlns?: string): XmlElement | undefined {
    for (const c of this.children) {
      if (
        typeof c !== 'string' &&
        c.name === name &&
        (xmlns === undefined || c.attrs.xmlns === xmlns)
      ) {
        return c;
      }
    }
    return undefined;
  }

  getChildren(name?: string, xmlns?: string): XmlElement[] {
    const out: XmlElement[] = [];
    for (const c of this.children) {
      if (typeof c === 'string') continue;
      if (name !== undefined && c.name !== name) continue;
      if (xmlns !== undefined && c.attrs.xmlns !== xmlns) continue;
      out.push(c);
    }
    return out;
  }

  /** First child element in a namespace, whatever its name (IQ payloads). */
  getChildByNs(xmlns: string): XmlElement | undefined {
    for (const c of this.children) if (typeof c !== 'string' && c.attrs.xmlns === xmlns) return c;
    return undefined;
  }

  elements(): XmlElement[] {
    return this.children.filter((c): c is XmlElement => typeof c !== 'string');
  }

  text(): string {
    let s = '';
    for (const c of this.children) if (typeof c === 'string') s += c;
    return s;
  }

  getChildText(name: string, xmlns?: string): string | undefined {
    return this.getChild(name, xmlns)?.text();
  }

  /** Appends a child and returns it (for building nested payloads). */
  c(name: string, attrs: Record<string, string | undefined> = {}): XmlElement {
    const child = new XmlElement(name, attrs);
    this.children.push(child);
    return child;
  }

  append(...nodes: (XmlNode | undefined)[]): this {
    for (const n of nodes) if (n !== undefined) this.children.push(n);
    return this;
  }

  removeChildren(predicate: (el: XmlElement) => boolean): void {
    this.children = this.children.filter((c) => typeof c === 'string' || !predicate(c));
  }

  /** A copy with its own attributes that shares (read-only) children: one stanza, many recipients. */
  withAttrs(changes: Record<string, string | undefined>): XmlElement {
    const attrs: Record<string, string | undefined> = { ...this.attrs, ...changes };
    return new XmlElement(this.name, attrs, this.children);
  }

  clone(): XmlElement {
    return new XmlElement(
      this.name,
      { ...this.attrs },
      this.children.map((c) => (typeof c === 'string' ? c : c.clone())),
    );
  }

  toString(): string {
    let s = `<${this.name}`;
    for (const k in this.attrs) s += ` ${k}="${escapeAttr(this.attrs[k]!)}"`;
    if (this.children.length === 0) return `${s}/>`;
    s += '>';
    for (const c of this.children) s += typeof c === 'string' ? escapeText(c) : c.toString();
    return `${s}</${this.name}>`;
  }
}

/** Shorthand builder: `x('iq', {type: 'result'}, x('query', {xmlns: NS}))`. */
export function x(
  name: string,
  attrs: Record<string, string | undefined> = {},
  ...children: (XmlNode | undefined | null | false)[]
): XmlElement {
  const kids: XmlNode[] = [];
  for (const c of children) if (c !== undefined && c !== null && c !== false) kids.push(c);
  return new XmlElement(name, attrs, kids);
}

const textEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const attrEscapes: Record<string, string> = { ...textEscapes, '"': '&quot;', "'": '&apos;' };

export function escapeText(s: string): string {
  return /[&<>]/.test(s) ? s.replace(/[&<>]/g, (ch) => textEscapes[ch]!) : s;
}

export function escapeAttr(s: string): string {
  return /[&<>"']/.test(s) ? s.replace(/[&<>"']/g, (ch) => attrEscapes[ch]!) : s;
}
