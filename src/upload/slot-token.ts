import { createHmac, timingSafeEqual } from 'node:crypto';
import type { StoredFile } from '../storage/ports.ts';

/**
 * The bearer token a client presents with its PUT (XEP-0363 lets the slot name headers).
 * An HMAC over everything the slot grants, so a token is only good for its own slot, owner,
 * size and expiry; single use comes from the slot record's status.
 */
export function slotToken(
  signKey: Buffer,
  f: Pick<StoredFile, 'id' | 'owner' | 'size' | 'createdAt'>,
): string {
  return createHmac('sha256', signKey)
    .update(`put\0${f.id}\0${f.owner}\0${f.size}\0${f.createdAt}`)
    .digest('base64url');
}

export function verifySlotToken(
  signKey: Buffer,
  f: Pick<StoredFile, 'id' | 'owner' | 'size' | 'createdAt'>,
  token: string,
): boolean {
  return safeEqual(slotToken(signKey, f), token);
}

/** A download token for one party of a conversation (download_access = 'party'). */
export function partyToken(signKey: Buffer, fileId: string, party: string): string {
  return createHmac('sha256', signKey).update(`get\0${fileId}\0${party}`).digest('base64url');
}

export function verifyPartyToken(
  signKey: Buffer,
  fileId: string,
  party: string,
  token: string,
): boolean {
  return safeEqual(partyToken(signKey, fileId, party), token);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The name a client asked for, made safe for a URL path segment and a file listing. */
export function cleanFileName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  const printable = [...base].filter((ch) => ch >= ' ' && ch !== '\u007f').join('');
  const clean = printable.trim().slice(0, 200);
  return clean === '' || clean === '.' || clean === '..' ? 'file' : clean;
}
