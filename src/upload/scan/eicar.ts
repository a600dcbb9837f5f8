/**
 * The EICAR anti-virus test file (https://www.eicar.org): always detected, whatever else is
 * configured, so every installation can prove its scanning path end to end. Kept base64 here
 * so that a virus scanner on a developer's machine does not flag this source file.
 */
export const EICAR = Buffer.from(
  'WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNULUZJTEUhJEgrSCo=',
  'base64',
);

/** True when the bytes are the EICAR file: its string first, then at most whitespace (128 bytes max). */
export function isEicar(head: Buffer, size: number): boolean {
  if (size > 128 || head.length < EICAR.length) return false;
  if (!head.subarray(0, EICAR.length).equals(EICAR)) return false;
  return /^\s*$/.test(head.subarray(EICAR.length).toString('latin1'));
}
