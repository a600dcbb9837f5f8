import type { ConfigKeyInfo } from './schema.ts';

/** A configuration problem, explained in one line that names the key and where it came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Where a configured value came from. */
export type ConfigSource =
  | { kind: 'default' }
  | { kind: 'file'; file: string; line?: number }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string };

export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return source.line === undefined
        ? `in ${source.file}`
        : `in ${source.file}, line ${source.line}`;
    case 'env':
      return `from environment variable ${source.name}`;
    case 'flag':
      return `from flag --${source.name}`;
  }
}

/** What a key accepts, phrased to follow "must be". */
export function describeAllowed(info: ConfigKeyInfo): string {
  const { min, max } = info;
  switch (info.kind) {
    case 'integer':
    case 'number': {
      const what = info.kind === 'integer' ? 'an integer' : 'a number';
      if (min !== undefined && max !== undefined) return `${what} between ${min} and ${max}`;
      if (min !== undefined) return `${what} of at least ${min}`;
      if (max !== undefined) return `${what} of at most ${max}`;
      return what;
    }
    case 'boolean':
      return 'true or false';
    case 'table':
      return 'a table of named lists of strings (in the environment: the same as JSON)';
    case 'enum':
      return `one of ${quoteList(info.options ?? [])}`;
    case 'list': {
      const items = info.options ? `items from ${quoteList(info.options)}` : 'strings';
      if (min === 1) return `a non-empty list of ${items}`;
      return min !== undefined && min > 1
        ? `a list of at least ${min} ${items}`
        : `a list of ${items}`;
    }
    case 'string': {
      if (min !== undefined && max !== undefined) return `a string of ${min} to ${max} characters`;
      if (min !== undefined && min > 0) return 'a non-empty string';
      return 'a string';
    }
  }
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/** Renders a rejected value the way the user wrote it (TOML-ish, strings quoted). */
export function showValue(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return 'a table';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The candidate closest to `word`, when it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  if (best === undefined) return undefined;
  const tolerance = Math.max(2, Math.floor(Math.max(w.length, best.length) / 4));
  if (bestScore <= tolerance) return best;
  // A fragment of a longer name ("max_stanza" for "max_stanza_bytes") is also a likely slip.
  for (const c of candidates) {
    const lc = c.toLowerCase();
    if (w.length >= 4 && (lc.includes(w) || w.includes(lc))) return c;
  }
  return undefined;
}

/** Levenshtein distance, with adjacent transpositions counting as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = v;
    }
  }
  return at(a.length, b.length);
}
