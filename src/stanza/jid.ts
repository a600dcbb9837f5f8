/**
 * JIDs per RFC 7622. Localparts are case-mapped (PRECIS UsernameCaseMapped, approximated:
 * width-mapped, lower-cased, NFC, with the characters RFC 7622 §3.3.1 forbids refused);
 * domains are lower-cased and IDNA-mapped; resources are NFC (OpaqueString).
 */
export class Jid {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;
  readonly bare: string;
  readonly full: string;

  private constructor(local: string, domain: string, resource: string) {
    this.local = local;
    this.domain = domain;
    this.resource = resource;
    this.bare = local ? `${local}@${domain}` : domain;
    this.full = resource ? `${this.bare}/${resource}` : this.bare;
  }

  static of(local: string, domain: string, resource = ''): Jid {
    return new Jid(local, domain, resource);
  }

  /** Parses and prepares a JID; throws JidError (mapped to `jid-malformed`) when invalid. */
  static parse(input: string): Jid {
    const slash = input.indexOf('/');
    const head = slash === -1 ? input : input.slice(0, slash);
    const resource = slash === -1 ? undefined : input.slice(slash + 1);
    const at = head.indexOf('@');
    const local = at === -1 ? undefined : head.slice(0, at);
    const domain = at === -1 ? head : head.slice(at + 1);
    return new Jid(
      local === undefined ? '' : prepLocal(local),
      prepDomain(domain),
      resource === undefined ? '' : prepResource(resource),
    );
  }

  /** Returns undefined instead of throwing. */
  static tryParse(input: string | undefined): Jid | undefined {
    if (input === undefined) return undefined;
    try {
      return Jid.parse(input);
    } catch {
      return undefined;
    }
  }

  get isBare(): boolean {
    return this.resource === '';
  }

  get isDomain(): boolean {
    return this.local === '' && this.resource === '';
  }

  toBare(): Jid {
    return this.resource ? new Jid(this.local, this.domain, '') : this;
  }

  withResource(resource: string): Jid {
    return new Jid(this.local, this.domain, prepResource(resource));
  }

  equals(other: Jid): boolean {
    return this.full === other.full;
  }

  toString(): string {
    return this.full;
  }
}

export class JidError extends Error {
  override readonly name = 'JidError';
}

const utf8 = new TextEncoder();
const MAX_PART_BYTES = 1023;

function checkLength(part: string, what: string): void {
  if (utf8.encode(part).length > MAX_PART_BYTES)
    throw new JidError(`${what} longer than 1023 bytes`);
}

// Controls, whitespace and the characters RFC 7622 forbids in a localpart.
const LOCAL_FORBIDDEN = /[\s"&'/:<>@\p{Cc}\p{Cf}\p{Co}\p{Cs}\u{FFFD}]/u;
const RESOURCE_FORBIDDEN = /[\p{Cc}\p{Co}\p{Cs}\u{FFFD}]/u;

export function prepLocal(raw: string): string {
  if (raw === '') throw new JidError('empty localpart');
  const s = raw.normalize('NFKC').toLowerCase().normalize('NFC');
  if (LOCAL_FORBIDDEN.test(s)) throw new JidError('forbidden character in localpart');
  checkLength(s, 'localpart');
  return s;
}

export function prepResource(raw: string): string {
  if (raw === '') throw new JidError('empty resourcepart');
  const s = raw.normalize('NFC');
  if (RESOURCE_FORBIDDEN.test(s)) throw new JidError('forbidden character in resourcepart');
  if (s.trim() === '') throw new JidError('blank resourcepart');
  checkLength(s, 'resourcepart');
  return s;
}

export function prepDomain(raw: string): string {
  let s = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (s === '') throw new JidError('empty domainpart');
  if (s.startsWith('[') && s.endsWith(']')) return s.toLowerCase(); // IPv6 literal
  s = s.normalize('NFKC').toLowerCase();
  if (/[^\x21-\x7e]/.test(s)) {
    // Internationalised label: let the URL machinery apply IDNA (UTS #46) mapping.
    try {
      s = new URL(`http://${s}/`).hostname;
    } catch {
      throw new JidError('invalid domainpart');
    }
  }
  if (!/^[a-z0-9.-]+$/.test(s) || s.split('.').some((l) => l === '' || l.length > 63)) {
    throw new JidError('invalid domainpart');
  }
  checkLength(s, 'domainpart');
  return s;
}
