// The artefacts of a message: what a worm or a spam run repeats from copy to copy. Links (as
// the URL inspector normalises them) and their domains, files (SHA-256 when the offer carries
// one, else the file name) and the near-duplicate fingerprint of the text. Each says whether
// it is suspicious on its own, which decides whether a fan-out of it may quarantine a sender:
// a clickable link to a host that is not trusted (internal, well known, the server's own or
// listed by the admin) or that the URL judge flags, and a program file. Text never is: a
// team broadcast is ordinary; only a text the engine already stops (held spam) counts.

import { domainToASCII } from 'node:url';
import { judgeFileName } from '../inspectors/file-offer.ts';
import { extractUrls, type FoundUrl } from '../inspectors/url-extract.ts';
import { judgeUrl, registrableDomain, type UrlJudgement } from '../inspectors/url-judge.ts';
import { textFingerprint } from './fingerprint.ts';

export type ArtefactKind = 'url' | 'domain' | 'sha256' | 'file' | 'text' | 'links';

/**
 * Any link the URL judge flags, whatever it is: a worm that gives each contact its own host,
 * path and wording still sends every one of them a flagged link.
 */
export const FLAGGED_LINKS_KEY = 'links:flagged';

export type Artefact = {
  /** `kind:value`, e.g. `url:http://192.0.2.7:8180/`, `domain:example.net`, `text:3a1f…`. */
  key: string;
  kind: ArtefactKind;
  /** Suspicious on its own: a strong or medium finding of the URL judge, a program file. */
  suspicious: boolean;
  /** Counted for fan-out; subdomain keys are not (they only match blocks). */
  counted: boolean;
  /** May become a server-wide block when an outbreak is detected. */
  blockable: boolean;
};

/** What the extractor reads from a message stanza. */
export type MessageParts = {
  text: string;
  /** Links outside the body (XEP-0066 out-of-band data). */
  extraUrls?: readonly string[];
  /** Lower-case hex SHA-256 of offered files (XEP-0300 hashes in SIMS, SFS, Jingle offers). */
  sha256?: readonly string[];
  fileNames?: readonly string[];
};

export type ArtefactOptions = {
  /** Hosts that never count as suspicious nor become outbreak blocks (the server's own...). */
  trustedDomains?: readonly string[];
};

const isMediumOrStrong = (strength: string): boolean => strength !== 'weak';

/** The host and each parent domain down to the registrable one: a.b.example.com → 3 keys. */
export function domainSuffixes(host: string): string[] {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || !host.includes('.')) return [host];
  const reg = registrableDomain(host);
  const out = [host];
  let h = host;
  while (h !== reg && h.includes('.')) {
    h = h.slice(h.indexOf('.') + 1);
    out.push(h);
  }
  return out;
}

function isTrusted(host: string, judged: UrlJudgement, trusted: readonly string[]): boolean {
  if (judged.internal === true || judged.wellKnown === true) return true;
  return trusted.some((t) => host === t || host.endsWith(`.${t}`));
}

/** A host in one spelling: ASCII (punycode), lower case, no trailing dot. */
export function asciiHost(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '');
  return domainToASCII(h) || h;
}

/**
 * One spelling per link: the judged host (a decimal or hex IP becomes dotted, IDN becomes
 * punycode), default ports dropped, scheme and path kept.
 */
export function normaliseUrl(u: FoundUrl, judged: UrlJudgement): string {
  if (judged.host === '') return u.url;
  const defaultPort =
    (u.scheme === 'http' && u.port === 80) || (u.scheme === 'https' && u.port === 443);
  const port = u.port === undefined || defaultPort ? '' : `:${u.port}`;
  return `${u.scheme}://${asciiHost(judged.host)}${port}${u.path}`;
}

function urlArtefacts(
  u: FoundUrl,
  judged: UrlJudgement,
  trusted: readonly string[],
  out: Artefact[],
): void {
  const flagged = judged.findings.some((f) => isMediumOrStrong(f.strength));
  const trustedHost = judged.host !== '' && isTrusted(judged.host, judged, trusted);
  // A defanged link ("hxxp://", "[.]") cannot be clicked: security staff write links so.
  const clickable = !u.defanged;
  if (clickable && flagged) {
    out.push({
      key: FLAGGED_LINKS_KEY,
      kind: 'links',
      suspicious: true,
      counted: true,
      blockable: false,
    });
  }
  out.push({
    key: `url:${normaliseUrl(u, judged)}`,
    kind: 'url',
    suspicious: clickable && (flagged || (judged.host !== '' && !trustedHost)),
    counted: true,
    blockable: true,
  });
  if (judged.host === '') return; // javascript:, skype: ... have no host
  const hostSuspicious = clickable && !trustedHost;
  const suffixes = domainSuffixes(asciiHost(judged.host));
  suffixes.forEach((d, i) => {
    out.push({
      key: `domain:${d}`,
      kind: 'domain',
      suspicious: hostSuspicious,
      // A trusted domain is not counted: many colleagues' links to one intranet are normal.
      counted: !trustedHost && i === suffixes.length - 1,
      blockable: !trustedHost && i === suffixes.length - 1,
    });
  });
}

/** Every artefact of a message, without duplicates. */
export function extractArtefacts(parts: MessageParts, options: ArtefactOptions = {}): Artefact[] {
  const trusted = options.trustedDomains ?? [];
  const out: Artefact[] = [];
  const found = [...extractUrls(parts.text)];
  for (const extra of parts.extraUrls ?? []) found.push(...extractUrls(extra));
  for (const u of found) urlArtefacts(u, judgeUrl(u), trusted, out);
  for (const hash of parts.sha256 ?? []) {
    out.push({
      key: `sha256:${hash.toLowerCase()}`,
      kind: 'sha256',
      suspicious: false,
      counted: true,
      blockable: true,
    });
  }
  for (const name of parts.fileNames ?? []) {
    const kind = judgeFileName(name)?.kind;
    out.push({
      key: `file:${name.trim().toLowerCase()}`,
      kind: 'file',
      suspicious: kind === 'executable' || kind === 'disguised',
      counted: true,
      blockable: kind !== undefined,
    });
  }
  for (const band of textFingerprint(parts.text)) {
    out.push({
      key: `text:${band}`,
      kind: 'text',
      suspicious: false,
      counted: true,
      blockable: false,
    });
  }
  const unique = new Map<string, Artefact>();
  for (const a of out) {
    const seen = unique.get(a.key);
    if (seen === undefined) unique.set(a.key, a);
    else if (a.suspicious && !seen.suspicious) unique.set(a.key, { ...seen, suspicious: true });
  }
  return [...unique.values()];
}

/** A block key as an admin writes it: a URL, a domain or a SHA-256 (hex). */
export function parseBlockTarget(input: string): {
  kind: 'url' | 'domain' | 'sha256';
  value: string;
} {
  const s = input.trim();
  if (/^[0-9a-f]{64}$/i.test(s)) return { kind: 'sha256', value: s.toLowerCase() };
  if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[^/]+:\d+$/.test(s)) {
    const [u] = extractUrls(s);
    if (u !== undefined) return { kind: 'url', value: normaliseUrl(u, judgeUrl(u)) };
  }
  const host = asciiHost(s);
  if (/^(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)*[\p{L}\p{N}-]+$/u.test(host)) {
    return { kind: 'domain', value: host };
  }
  throw new Error(`"${input}" is not a URL (with its scheme), a domain or a SHA-256 in hex`);
}
