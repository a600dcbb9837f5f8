// Judges one extracted URL. Each finding has a strength: strong findings are reasons to
// hold a link on their own; medium ones when the context is also unusual (a stranger, a
// message sent to many people); weak ones only feed the classifier.

import { domainToUnicode } from 'node:url';
import type { FoundUrl } from './url-extract.ts';
import {
  ARCHIVE_EXTENSIONS,
  BRANDS,
  CONFUSABLES,
  DANGEROUS_SCHEMES,
  EXECUTABLE_EXTENSIONS,
  LEGACY_IM_SCHEMES,
  SHORTENER_LABELS,
  SHORTENERS,
  WELL_KNOWN_DOMAINS,
} from './url-lists.ts';

export type Strength = 'weak' | 'medium' | 'strong';
export type UrlFinding = { flag: string; strength: Strength; detail: string };
export type UrlJudgement = {
  url: string;
  host: string;
  findings: UrlFinding[];
  /** A private address or an intranet-style name (".corp", ".internal", no dots). */
  internal?: boolean;
  /** A domain of a well-known brand. */
  wellKnown?: boolean;
};

const STANDARD_PORTS = new Set([80, 443]);
const INTERNAL_SUFFIXES = ['.corp', '.internal', '.lan', '.local', '.home', '.intranet'];

/** Parses IPv4 in the forms browsers accept: dotted, one decimal number, hex, octal. */
export function parseIpv4(host: string): { ip: string; form: string } | undefined {
  const parts = host.split('.');
  if (parts.length > 4 || parts.some((p) => !/^(0x[0-9a-f]*|\d+)$/i.test(p))) return undefined;
  const nums = parts.map((p) =>
    /^0x/i.test(p)
      ? Number.parseInt(p.slice(2) || '0', 16)
      : /^0\d/.test(p)
        ? Number.parseInt(p, 8)
        : Number(p),
  );
  if (nums.some((n) => Number.isNaN(n))) return undefined;
  let value = 0;
  for (let i = 0; i < nums.length - 1; i++) {
    if (nums[i]! > 255) return undefined;
    value = value * 256 + nums[i]!;
  }
  const last = nums[nums.length - 1]!;
  const lastBytes = 5 - nums.length;
  if (last >= 256 ** lastBytes) return undefined;
  value = value * 256 ** lastBytes + last;
  const ip = [24, 16, 8, 0].map((s) => Math.floor(value / 2 ** s) % 256).join('.');
  const form =
    parts.length === 4 && parts.every((p) => /^(0|[1-9]\d*)$/.test(p))
      ? 'dotted'
      : parts.some((p) => /^0x/i.test(p))
        ? 'hex'
        : parts.some((p) => /^0\d/.test(p))
          ? 'octal'
          : 'decimal';
  return { ip, form };
}

export function isPrivateIpv4(ip: string): boolean {
  const [a = 0, b = 0] = ip.split('.').map(Number);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168);
}

/** A private address or an intranet-style name (".corp", ".internal", no dots). */
function isInternalHost(host: string): boolean {
  if (host.startsWith('[')) return /^\[(::1|f[cd][0-9a-f]*:|fe80:)/i.test(host);
  const ip = parseIpv4(host);
  if (ip) return isPrivateIpv4(ip.ip);
  return (
    !host.includes('.') || INTERNAL_SUFFIXES.some((s) => host.endsWith(s)) || /\.corp\./.test(host)
  );
}

/** The part of a host a person registers: "login.paypal.com" -> "paypal.com". */
export function registrableDomain(host: string): string {
  const labels = host.split('.');
  const n = labels.length;
  if (n <= 2) return host;
  const second = labels[n - 2]!;
  const tld = labels[n - 1]!;
  const take = tld.length === 2 && /^(co|com|net|org|gov|edu|ac)$/.test(second) ? 3 : 2;
  return labels.slice(-take).join('.');
}

/** Maps look-alike characters to the Latin letters they imitate. */
export function skeleton(label: string): string {
  let s = '';
  for (const ch of label.normalize('NFKD').replace(/\p{M}/gu, '')) s += CONFUSABLES[ch] ?? ch;
  return s.replace(/rn/g, 'm').replace(/vv/g, 'w');
}

/** True when a and b differ by one insertion, deletion, substitution or swap. */
export function oneEdit(a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  if (a.length === b.length) {
    const diff: number[] = [];
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff.push(i);
    if (diff.length === 1) return true;
    const [i, j] = diff;
    return diff.length === 2 && j === i! + 1 && a[i!] === b[j] && a[j] === b[i!];
  }
  const [s, l] = a.length < b.length ? [a, b] : [b, a];
  let i = 0;
  while (i < s.length && s[i] === l[i]) i++;
  return s.slice(i) === l.slice(i + 1);
}

function isWellKnown(host: string): boolean {
  return WELL_KNOWN_DOMAINS.has(host) || WELL_KNOWN_DOMAINS.has(registrableDomain(host));
}

function lookalike(host: string): UrlFinding | undefined {
  if (isWellKnown(host)) return undefined;
  const reg = registrableDomain(host);
  const name = reg.split('.')[0] ?? '';
  const skel = skeleton(name);
  for (const brand of Object.keys(BRANDS)) {
    if (skel === brand) {
      return { flag: 'lookalike', strength: 'strong', detail: `"${reg}" imitates ${brand}` };
    }
    if (brand.length >= 5 && (oneEdit(name, brand) || oneEdit(skel, brand))) {
      return { flag: 'typo', strength: 'strong', detail: `"${reg}" is one letter from ${brand}` };
    }
  }
  // A brand used as a word inside someone else's domain ("paypal-secure.example").
  const words = skeleton(host).split(/[.-]/);
  for (const brand of Object.keys(BRANDS)) {
    if (brand.length < 5) continue;
    if (words.includes(brand) || (skel.includes(brand) && skel !== brand)) {
      return {
        flag: 'brand-embedded',
        strength: 'medium',
        detail: `"${host}" uses the name ${brand}`,
      };
    }
  }
  return undefined;
}

function extensionOf(name: string): string | undefined {
  let last = name;
  try {
    last = decodeURIComponent(last); // "setup%2Eexe" is served as setup.exe
  } catch {}
  // Windows drops trailing dots and spaces: "setup.exe." runs as setup.exe.
  const m = /\.([a-z0-9-]{1,10})[.\s]*$/i.exec(last);
  return m ? m[1]!.toLowerCase() : undefined;
}

/** The extension of the file a link downloads: its last path segment, else a query value. */
function fileExtension(path: string): string | undefined {
  const [beforeQuery = '', query = ''] = path.split('#')[0]!.split('?', 2);
  // "download.php?file=setup.exe": the name the server sends the file under.
  for (const pair of query.split('&')) {
    const ext = extensionOf(pair.slice(pair.indexOf('=') + 1));
    if (ext !== undefined && EXECUTABLE_EXTENSIONS.has(ext)) return ext;
  }
  return extensionOf(beforeQuery.split(/[/\\]/).pop() ?? '');
}

export function judgeUrl(u: FoundUrl): UrlJudgement {
  const findings: UrlFinding[] = [];
  const add = (flag: string, strength: Strength, detail: string): void => {
    findings.push({ flag, strength, detail });
  };
  if (DANGEROUS_SCHEMES.has(u.scheme)) {
    add('dangerous-scheme', 'strong', `a ${u.scheme}: link can run code or open local files`);
    return { url: u.url, host: '', findings };
  }
  if (LEGACY_IM_SCHEMES.has(u.scheme)) {
    // Plain "skype:name?chat" style links are common; parameters beyond that are not.
    const odd =
      u.scheme !== 'skype' ||
      /[?&](?!chat\b|call\b|add\b|userinfo\b)\w+|%[0-9a-f]{2}|.{200}/i.test(u.path);
    add(
      'legacy-im-scheme',
      odd ? 'strong' : 'weak',
      `a ${u.scheme}: link talks to an IM client directly`,
    );
    return { url: u.url, host: '', findings };
  }
  if (u.scheme === 'unc') {
    // Opening \\host\share sends the user's Windows sign-in hash to that host.
    if (!isInternalHost(u.rawHost)) {
      add('unc-external', 'strong', 'the link opens a Windows share on an outside host');
    }
    return { url: u.url, host: u.rawHost, findings, internal: isInternalHost(u.rawHost) };
  }
  if (u.obfuscated) add('obfuscated', 'strong', 'the link was disguised so filters would miss it');
  if (u.defanged) add('defanged', 'medium', 'the link was written so that it cannot be clicked');
  if (u.userinfo !== undefined)
    add('userinfo', 'strong', 'the link hides its real host after an @');
  let host = u.rawHost;
  const ip = parseIpv4(host);
  const internal = isInternalHost(host);
  if (host.startsWith('[')) {
    add('ip-literal', internal ? 'weak' : 'medium', 'the link points at a bare IPv6 address');
  } else if (ip) {
    host = ip.ip;
    if (ip.form !== 'dotted')
      add('ip-encoded', 'strong', `the address is written as a ${ip.form} number`);
    else add('ip-literal', internal ? 'weak' : 'medium', 'the link points at a bare IP address');
  } else {
    if (/(^|\.)xn--/.test(host) || /[^\x00-\x7f]/.test(host)) {
      const uni = domainToUnicode(host) || host;
      const mixed = /[a-z]/.test(uni) && /[^\x00-\x7f]/.test(uni);
      add('idn', mixed ? 'strong' : 'medium', `international domain name "${uni}"`);
      host = uni;
    }
    const la = lookalike(host);
    if (la) findings.push(la);
    const reg = registrableDomain(host);
    if (
      SHORTENERS.has(host) ||
      SHORTENERS.has(reg) ||
      SHORTENER_LABELS.has(reg.split('.')[0] ?? '')
    ) {
      add('shortener', 'medium', 'a link shortener hides where the link goes');
    }
  }
  if (u.port !== undefined && !STANDARD_PORTS.has(u.port)) {
    add('odd-port', internal ? 'weak' : 'medium', `the link uses unusual port ${u.port}`);
  }
  const ext = fileExtension(u.path);
  if (ext && EXECUTABLE_EXTENSIONS.has(ext)) {
    // Source files on well-known code hosts ("github.com/x/y.js") are not downloads.
    const known = ip === undefined && isWellKnown(host);
    add('executable-path', known ? 'weak' : 'strong', `the link downloads a program (.${ext})`);
  } else if (ext && ARCHIVE_EXTENSIONS.has(ext)) {
    add('archive-path', internal ? 'weak' : 'medium', `the link downloads an archive (.${ext})`);
  }
  if (u.url.length > 2000) add('overlong', 'medium', 'the link is extremely long');
  // A defanged link cannot be clicked: people quoting attacks write links this way, so its
  // findings count for at most "medium" (still held when mass-sent or from a stranger).
  const capped = u.defanged
    ? findings.map((f) => (f.strength === 'strong' ? { ...f, strength: 'medium' as const } : f))
    : findings;
  return {
    url: u.url,
    host,
    findings: capped,
    internal,
    wellKnown: ip === undefined && isWellKnown(host),
  };
}
