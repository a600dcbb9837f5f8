// Finds the URLs in a chat body, including the forms people and worms use to slip past
// naive filters: no scheme, "hxxp", "[.]" / "(.)" / " dot " / spaced dots, zero-width
// characters inside the link, fullwidth letters and IDN hosts.

import { DANGEROUS_SCHEMES, KNOWN_TLDS, LEGACY_IM_SCHEMES, WEB_SCHEMES } from './url-lists.ts';

export type FoundUrl = {
  /** The URL as it appeared after undoing obfuscation (scheme added if missing). */
  url: string;
  scheme: string;
  /** Host as written (lower case, may be decimal/hex IP or Unicode). */
  rawHost: string;
  port?: number;
  path: string;
  /** Text before '@' in the authority, if any. */
  userinfo?: string;
  hadScheme: boolean;
  /** Only visible after undoing " dot ", spaced dots, zero-width or fullwidth tricks. */
  obfuscated: boolean;
  /** Written "defanged" (hxxp, [.]): a habit of security staff, and of some worms. */
  defanged: boolean;
};

const ZERO_WIDTH = /[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u180e]/g;

/** Removes zero-width characters and folds fullwidth forms to ASCII. */
export function foldText(text: string): string {
  return text.replace(ZERO_WIDTH, '').normalize('NFKC');
}

/** Undoes "defanging", the way security staff write a link so it cannot be clicked. */
export function defang(text: string): string {
  return text
    .replace(/\bh[xX*]{2}p(s?)\b/gi, 'http$1')
    .replace(/\b(https?|ftp)\s*\[?:\]?\s*\/\s*\/\s*/gi, '$1://')
    .replace(/\s*[[({<]\s*(?:\.|dot|punto|chấm|点)\s*[\])}>]\s*/gi, '.')
    .replace(/\s*[[({<]\s*:\s*[\])}>]\s*/g, ':')
    .replace(/\s*[[({<]\s*\/\s*[\])}>]\s*/g, '/');
}

/** Undoes every usual way of writing a link so that it does not look like one. */
export function deobfuscate(text: string): string {
  return (
    defang(text)
      // "h t t p : / /": a scheme spelled out letter by letter.
      .replace(/\bh\s+t\s+t\s+p(\s*s)?\s*:\s*\/\s*\/\s*/gi, (_m, s?: string) =>
        s ? 'https://' : 'http://',
      )
      // Ideographic full stops used as dots in a host name.
      .replace(/([\p{L}\p{N}])\s*[。｡]\s*(?=[a-z0-9])/giu, '$1.')
      // "www dot host dot com" and "host . com": spaced dots between name parts.
      .replace(/([\p{L}\p{N}-])\s+(?:dot|DOT|Dot|chấm|点)\s+(?=[\p{L}\p{N}])/gu, '$1.')
      .replace(/([\p{L}\p{N}-]) \. (?=[\p{L}\p{N}])/gu, '$1.')
      .replace(/([\p{L}\p{N}-]\.[a-z]{2,})\s+\/\s+(?=\S)/giu, '$1/')
  );
}

let lastRead: string | undefined;
let lastReadable = '';

/**
 * The text with every trick undone (folded, then deobfuscated), as the URL scan, the
 * classifier's shape and the outbreak fingerprint all read it; the last answer is kept.
 */
export function readableText(text: string): string {
  if (text !== lastRead) {
    lastReadable = deobfuscate(foldText(text));
    lastRead = text;
  }
  return lastReadable;
}

const SCHEME_URL = /\b([a-z][a-z0-9+.-]{1,15}):(\/\/)?([^\s<>"'`\u3000-\u303f\uff01-\uff0f]+)/giu;
const BARE_HOST =
  /(?<![@\p{L}\p{N}._/:-])((?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,62})\.)+[\p{L}]{2,24}|\d{1,3}(?:\.\d{1,3}){3})(:\d{1,5})?(\/[^\s<>"'`]*)?/giu;

/** A Windows share path, \\host\share\...: Windows clients open it as a link. */
const UNC_PATH = /(?<![\\\p{L}\p{N}])\\\\([\p{L}\p{N}][\p{L}\p{N}.-]*)((?:\\[^\s\\<>"'`]+)+)\\?/gu;

const TRAILING = /[.,;:!?)\]}'"…。，、！？）」』]+$/u;

function knownScheme(s: string): boolean {
  return WEB_SCHEMES.has(s) || DANGEROUS_SCHEMES.has(s) || LEGACY_IM_SCHEMES.has(s);
}

function splitAuthority(rest: string): {
  rawHost: string;
  port?: number;
  path: string;
  userinfo?: string;
} {
  const slash = rest.search(/[/?#]/);
  let authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '/' : rest.slice(slash);
  let userinfo: string | undefined;
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
  }
  let rawHost = authority;
  let port: number | undefined;
  const m = /^(.*):(\d{1,5})$/.exec(authority);
  if (m) {
    rawHost = m[1]!;
    port = Number(m[2]);
  }
  const out: { rawHost: string; port?: number; path: string; userinfo?: string } = {
    rawHost: rawHost.toLowerCase().replace(/\.$/, ''),
    path,
  };
  if (port !== undefined) out.port = port;
  if (userinfo !== undefined) out.userinfo = userinfo;
  return out;
}

/** URLs in already folded and deobfuscated text, keyed by their normalised form. */
function scan(text: string): FoundUrl[] {
  const found: FoundUrl[] = [];
  const taken: Array<[number, number]> = [];
  for (const m of text.matchAll(SCHEME_URL)) {
    const scheme = m[1]!.toLowerCase();
    if (!knownScheme(scheme)) continue;
    const body = m[3]!.replace(TRAILING, '');
    const start = m.index ?? 0;
    taken.push([start, start + m[0].length]);
    if (!WEB_SCHEMES.has(scheme)) {
      found.push({
        url: `${scheme}:${m[2] ?? ''}${body}`,
        scheme,
        rawHost: '',
        path: body,
        hadScheme: true,
        obfuscated: false,
        defanged: false,
      });
      continue;
    }
    const parts = splitAuthority(body);
    if (parts.rawHost === '') continue;
    found.push({
      url: `${scheme}://${body}`,
      scheme,
      ...parts,
      hadScheme: true,
      obfuscated: false,
      defanged: false,
    });
  }
  for (const m of text.matchAll(UNC_PATH)) {
    const start = m.index ?? 0;
    taken.push([start, start + m[0].length]);
    found.push({
      url: m[0].replace(TRAILING, ''),
      scheme: 'unc',
      rawHost: m[1]!.toLowerCase().replace(/\.$/, ''),
      path: m[2]!.replace(TRAILING, ''),
      hadScheme: true,
      obfuscated: false,
      defanged: false,
    });
  }
  for (const m of text.matchAll(BARE_HOST)) {
    const start = m.index ?? 0;
    if (taken.some(([a, b]) => start >= a && start < b)) continue;
    const host = m[1]!.toLowerCase();
    const isIp = /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host);
    const tld = host.slice(host.lastIndexOf('.') + 1);
    // A bare IP is an address, not a link, unless a path follows it.
    if (isIp ? m[3] === undefined : !KNOWN_TLDS.has(tld) && !/^xn--/.test(tld)) continue;
    const body = `${host}${m[2] ?? ''}${(m[3] ?? '').replace(TRAILING, '')}`;
    found.push({
      url: `http://${body}`,
      scheme: 'http',
      ...splitAuthority(body),
      hadScheme: false,
      obfuscated: false,
      defanged: false,
    });
  }
  return found;
}

// The URL inspector, the classifier's features and the outbreak detector all read the same
// body one after another: the last answer is kept.
let lastText: string | undefined;
let lastUrls: readonly FoundUrl[] = [];

/** Every URL in a message body, each marked when it was hidden by obfuscation. */
export function extractUrls(text: string): readonly FoundUrl[] {
  if (text !== lastText) {
    lastUrls = scanAll(text);
    lastText = text;
  }
  return lastUrls;
}

function scanAll(text: string): FoundUrl[] {
  // Zero-width characters become spaces in the plain view, so a link split by them only
  // appears (whole) in the folded view and is marked as obfuscated.
  const spaced = text.replace(ZERO_WIDTH, ' ');
  const plain = new Set(scan(spaced).map((u) => u.url));
  const defanged = new Set(scan(defang(spaced)).map((u) => u.url));
  const out = new Map<string, FoundUrl>();
  for (const u of scan(readableText(text))) {
    if (out.has(u.url)) continue;
    const isPlain = plain.has(u.url);
    const isDefanged = !isPlain && defanged.has(u.url);
    out.set(u.url, { ...u, obfuscated: !isPlain && !isDefanged, defanged: isDefanged });
  }
  return [...out.values()];
}
