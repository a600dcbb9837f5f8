/**
 * SASLprep (RFC 4013): the stringprep profile for SASL user names and passwords.
 * Map (non-ASCII spaces to U+0020, RFC 3454 B.1 to nothing), NFKC, refuse prohibited
 * code points, apply the bidi rule, and (for stored strings) refuse unassigned ones.
 * Tables come from RFC 3454 via stringprep-tables.ts; NFKC uses the runtime's Unicode,
 * which agrees with Unicode 3.2 on every code point that was assigned in 3.2.
 */
import {
  L_CAT,
  MAPPED_TO_NOTHING,
  NON_ASCII_SPACE,
  PROHIBITED,
  RAND_AL_CAT,
  UNASSIGNED,
} from './stringprep-tables.ts';

export class SaslprepError extends Error {
  override readonly name = 'SaslprepError';
}

export interface SaslprepOptions {
  /**
   * RFC 3454 §7: queries may contain unassigned code points, stored strings may not.
   * Default false (stored-string rules).
   */
  allowUnassigned?: boolean;
}

/** Sorted [start, end, start, end, ...] code point ranges, searched by bisection. */
class CodePointSet {
  private readonly bounds: Uint32Array;

  constructor(table: string) {
    const items = table.split(/\s+/).filter((s) => s !== '');
    this.bounds = new Uint32Array(items.length * 2);
    items.forEach((item, i) => {
      const [start, end = start] = item.split('-') as [string, string?];
      this.bounds[2 * i] = Number.parseInt(start, 16);
      this.bounds[2 * i + 1] = Number.parseInt(end, 16);
    });
  }

  has(cp: number): boolean {
    let lo = 0;
    let hi = this.bounds.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (cp < this.bounds[2 * mid]!) hi = mid - 1;
      else if (cp > this.bounds[2 * mid + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

const nonAsciiSpace = new CodePointSet(NON_ASCII_SPACE);
const mappedToNothing = new CodePointSet(MAPPED_TO_NOTHING);
const prohibited = new CodePointSet(PROHIBITED);
const unassigned = new CodePointSet(UNASSIGNED);
const randAlCat = new CodePointSet(RAND_AL_CAT);
const lCat = new CodePointSet(L_CAT);

/** Printable ASCII passes every step unchanged, which is the common case. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

export function saslprep(input: string, options: SaslprepOptions = {}): string {
  if (PRINTABLE_ASCII.test(input)) return input;

  // Step 1, mapping. C.1.2 wins over B.1 for U+200B, which is in both tables.
  let mapped = '';
  for (const ch of input) {
    const cp = ch.codePointAt(0)!;
    if (nonAsciiSpace.has(cp)) mapped += ' ';
    else if (!mappedToNothing.has(cp)) mapped += ch;
  }

  // Step 2, normalization. A lone surrogate survives normalize() and is refused below.
  const normalized = mapped.normalize('NFKC');

  // Steps 3 and 5: prohibited output and, for stored strings, unassigned code points.
  const codePoints = Array.from(normalized, (ch) => ch.codePointAt(0)!);
  for (const cp of codePoints) {
    if (prohibited.has(cp)) throw new SaslprepError(`prohibited character ${hex(cp)}`);
    if (!options.allowUnassigned && unassigned.has(cp)) {
      throw new SaslprepError(`unassigned code point ${hex(cp)}`);
    }
  }

  // Step 4, bidi (RFC 3454 §6): right-to-left text must not mix with left-to-right
  // letters, and must start and end with a right-to-left character.
  if (codePoints.some((cp) => randAlCat.has(cp))) {
    if (codePoints.some((cp) => lCat.has(cp))) {
      throw new SaslprepError('mixes right-to-left and left-to-right characters');
    }
    if (!randAlCat.has(codePoints[0]!) || !randAlCat.has(codePoints[codePoints.length - 1]!)) {
      throw new SaslprepError(
        'right-to-left string must start and end with a right-to-left character',
      );
    }
  }
  return normalized;
}
