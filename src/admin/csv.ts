import { AdminError } from './errors.ts';

/** One data line of a two-column import file, with its 1-based line number. */
export interface CsvPair {
  line: number;
  first: string;
  second: string;
}

/**
 * Reads `first,second` lines. Blank lines and lines starting with # are skipped, as is a
 * header line naming the columns. The first field is trimmed; when `keepSecondVerbatim` is
 * set, everything after the first comma is kept as is (passwords may hold commas and spaces).
 */
export function parseCsvPairs(
  text: string,
  columns: readonly [string, string],
  keepSecondVerbatim: boolean,
): CsvPair[] {
  const out: CsvPair[] = [];
  const header = columns.join(',').toLowerCase();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let seenData = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (!seenData && trimmed.replace(/\s/g, '').toLowerCase() === header) {
      seenData = true;
      continue;
    }
    seenData = true;
    const line = i + 1;
    const comma = raw.indexOf(',');
    const first = (comma === -1 ? raw : raw.slice(0, comma)).trim();
    const rest = comma === -1 ? '' : raw.slice(comma + 1);
    const second = keepSecondVerbatim ? rest : rest.trim();
    if (first === '') throw badLine(line, `missing ${columns[0]}`);
    if (second === '') throw badLine(line, `missing ${columns[1]}`);
    out.push({ line, first, second });
  }
  return out;
}

export function badLine(line: number | undefined, reason: string, index = 0): AdminError {
  const where = line === undefined ? `bad entry ${index + 1}` : `bad CSV line ${line}`;
  return new AdminError('invalid', `${where}: ${reason}`);
}

/** `jid,password` lines for `user import`. */
export function parseUserCsv(text: string): Array<{ line: number; jid: string; password: string }> {
  return parseCsvPairs(text, ['JID', 'password'], true).map(({ line, first, second }) => ({
    line,
    jid: first,
    password: second,
  }));
}

/** `jid,contact` lines for `roster import`. */
export function parseRosterCsv(
  text: string,
): Array<{ line: number; jid: string; contact: string }> {
  return parseCsvPairs(text, ['JID', 'contact'], false).map(({ line, first, second }) => ({
    line,
    jid: first,
    contact: second,
  }));
}
