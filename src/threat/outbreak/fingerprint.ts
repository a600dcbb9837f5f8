// Near-duplicate text fingerprints: MinHash over word shingles, cut into LSH bands. Two
// messages whose shingle sets overlap enough (Jaccard similarity around 0.5 or more) share at
// least one band key with high probability, so "the same text" can be counted with exact
// key lookups even when a worm or spammer varies a few words, digits or punctuation.
// Links are left out of the text (they are artefacts of their own), and digits fold to 0.

import { readableText } from '../inspectors/url-extract.ts';

/** 64 hash functions in 16 bands of 4 rows: candidates from a similarity of about 0.5. */
export const HASHES = 64;
export const ROWS_PER_BAND = 4;
export const BANDS = HASHES / ROWS_PER_BAND;

const LINKISH =
  /\b(?:[a-z][a-z0-9+.-]{1,15}:\/?\/?|www\.)\S+|\b(?:[\p{L}\p{N}-]+\.)+[a-z]{2,24}(?::\d+)?(?:\/\S*)?/giu;
/** Scripts written without spaces: each of their characters is a token of its own. */
const TOKEN =
  /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Thai}]|(?:(?![\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Thai}])[\p{L}\p{N}\p{M}])+/gu;

/** The words of a message as the fingerprint sees them ("看这个lol" → 看, 这, 个, lol). */
export function fingerprintTokens(text: string): string[] {
  const shape = readableText(text)
    .toLowerCase()
    .replace(LINKISH, ' ')
    .replace(/\p{N}+/gu, '0');
  return shape.match(TOKEN) ?? [];
}

/** Adjacent token pairs; a one-word message is its own shingle. */
export function shingles(tokens: readonly string[]): Set<string> {
  const out = new Set<string>();
  if (tokens.length === 1) out.add(tokens[0]!);
  for (let i = 0; i + 1 < tokens.length; i++) out.add(`${tokens[i]} ${tokens[i + 1]}`);
  return out;
}

/** FNV-1a over UTF-16 code units, 32 bits. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: spreads every input bit over the output. */
function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const SEEDS = Array.from({ length: HASHES }, (_, i) => mix32(0x9e3779b9 * (i + 1)));

/** The MinHash signature of a shingle set; undefined for an empty set. */
export function minhash(set: ReadonlySet<string>): Uint32Array | undefined {
  if (set.size === 0) return undefined;
  const sig = new Uint32Array(HASHES).fill(0xffffffff);
  for (const s of set) {
    const base = fnv1a(s);
    for (let i = 0; i < HASHES; i++) {
      const v = mix32(base ^ SEEDS[i]!);
      if (v < sig[i]!) sig[i] = v;
    }
  }
  return sig;
}

/** Estimated Jaccard similarity of two signatures: the share of equal positions. */
export function similarity(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < HASHES; i++) if (a[i] === b[i]) same++;
  return same / HASHES;
}

/** One key per band: near-duplicates share at least one of them. */
export function bandKeys(sig: Uint32Array): string[] {
  const keys: string[] = [];
  for (let b = 0; b < BANDS; b++) {
    let h = 0x811c9dc5 ^ b;
    for (let r = 0; r < ROWS_PER_BAND; r++) h = mix32(h ^ sig[b * ROWS_PER_BAND + r]!);
    keys.push(`${b.toString(16)}${h.toString(16).padStart(8, '0')}`);
  }
  return keys;
}

/** Band keys of a message's text; empty when it has no words besides links. */
export function textFingerprint(text: string): string[] {
  const sig = minhash(shingles(fingerprintTokens(text)));
  return sig === undefined ? [] : bandKeys(sig);
}
