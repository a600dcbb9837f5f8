/**
 * Strict parsers for the SCRAM client messages (RFC 5802 §7 grammar). They only check
 * form; what the values mean (channel binding, nonce, proof) is scram-server's job.
 */

export class ScramSyntaxError extends Error {
  override readonly name = 'ScramSyntaxError';
  constructor(
    message: string,
    /** 'incorrect-encoding' for bad base64, otherwise 'malformed-request'. */
    readonly condition: 'malformed-request' | 'incorrect-encoding' = 'malformed-request',
  ) {
    super(message);
  }
}

export type ChannelBindingFlag = { flag: 'n' } | { flag: 'y' } | { flag: 'p'; type: string };

export interface ClientFirst {
  cb: ChannelBindingFlag;
  /** The gs2 header exactly as sent, including its trailing comma; c= must repeat it. */
  gs2Header: string;
  /** Unescaped; undefined when empty. */
  authzid?: string;
  /** Unescaped, not yet SASLprepped. */
  username: string;
  clientNonce: string;
  /** client-first-message-bare, part of AuthMessage. */
  bare: string;
}

export interface ClientFinal {
  channelBinding: Buffer;
  nonce: string;
  proof: Buffer;
  /** client-final-message-without-proof, part of AuthMessage. */
  withoutProof: string;
}

const CB_NAME = /^[A-Za-z0-9.-]+$/;
/** printable = %x21-2B / %x2D-7E */
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
/** saslname: no NUL or comma, and '=' only in =2C / =3D. */
const SASLNAME = /^(?:[^\0,=]|=2C|=3D)+$/;
/** An optional extension: one letter, '=', a value without comma or NUL. */
const EXTENSION = /^[A-Za-z]=[^\0,]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function unescapeSaslname(value: string, what: string): string {
  if (!SASLNAME.test(value)) throw new ScramSyntaxError(`bad ${what}`);
  return value.replaceAll('=2C', ',').replaceAll('=3D', '=');
}

/** Canonical base64 only: Buffer.from() alone would skip junk characters. */
export function decodeBase64Strict(value: string, what: string): Buffer {
  const bytes = BASE64.test(value) ? Buffer.from(value, 'base64') : undefined;
  if (!bytes || bytes.toString('base64') !== value) {
    throw new ScramSyntaxError(`${what} is not valid base64`, 'incorrect-encoding');
  }
  return bytes;
}

/** Value of `name=` at parts[i], or a syntax error naming what was expected. */
function attribute(parts: string[], i: number, name: string): string {
  const part = parts[i];
  if (part === undefined || !part.startsWith(`${name}=`)) {
    throw new ScramSyntaxError(`expected ${name}= attribute`);
  }
  return part.slice(name.length + 1);
}

/** Attribute names RFC 5802 defines; an extension may not reuse them (a second p=, say). */
const RESERVED_NAMES = new Set(['a', 'n', 'm', 'r', 'c', 's', 'i', 'p', 'v', 'e']);

/** RFC 5802 §5.1: a mandatory extension (m=) we don't know must fail; others are ignored. */
function checkExtensions(parts: string[]): void {
  for (const part of parts) {
    if (part.startsWith('m=')) throw new ScramSyntaxError('mandatory extensions are not supported');
    if (!EXTENSION.test(part) || RESERVED_NAMES.has(part[0]!)) {
      throw new ScramSyntaxError('malformed extension');
    }
  }
}

function parseFlag(flag: string): ChannelBindingFlag {
  if (flag === 'n' || flag === 'y') return { flag };
  if (flag.startsWith('p=') && CB_NAME.test(flag.slice(2)))
    return { flag: 'p', type: flag.slice(2) };
  throw new ScramSyntaxError('bad channel binding flag');
}

export function parseClientFirst(text: string): ClientFirst {
  const firstComma = text.indexOf(',');
  const secondComma = firstComma === -1 ? -1 : text.indexOf(',', firstComma + 1);
  if (secondComma === -1) throw new ScramSyntaxError('missing gs2 header');
  const cb = parseFlag(text.slice(0, firstComma));
  const authzPart = text.slice(firstComma + 1, secondComma);
  const authzid =
    authzPart === '' ? undefined : unescapeSaslname(attribute([authzPart], 0, 'a'), 'authzid');

  const bare = text.slice(secondComma + 1);
  const parts = bare.split(',');
  if (parts[0]?.startsWith('m=')) {
    throw new ScramSyntaxError('mandatory extensions are not supported');
  }
  const username = unescapeSaslname(attribute(parts, 0, 'n'), 'username');
  const clientNonce = attribute(parts, 1, 'r');
  if (!PRINTABLE.test(clientNonce)) throw new ScramSyntaxError('bad client nonce');
  checkExtensions(parts.slice(2));

  return {
    cb,
    gs2Header: text.slice(0, secondComma + 1),
    ...(authzid === undefined ? {} : { authzid }),
    username,
    clientNonce,
    bare,
  };
}

export function parseClientFinal(text: string): ClientFinal {
  const parts = text.split(',');
  if (parts.length < 3) throw new ScramSyntaxError('client-final-message too short');
  const channelBinding = decodeBase64Strict(attribute(parts, 0, 'c'), 'channel binding');
  const nonce = attribute(parts, 1, 'r');
  if (!PRINTABLE.test(nonce)) throw new ScramSyntaxError('bad nonce');
  checkExtensions(parts.slice(2, -1));
  const proof = decodeBase64Strict(attribute(parts, parts.length - 1, 'p'), 'proof');
  return { channelBinding, nonce, proof, withoutProof: parts.slice(0, -1).join(',') };
}
