import { type XmlElement, x } from '../xml/element.ts';
import { NS } from './namespaces.ts';

/** RFC 6120 §8.3.3 stanza error conditions, with the error type each one implies. */
export const STANZA_ERROR_TYPES = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'wait',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
} as const;

export type StanzaErrorCondition = keyof typeof STANZA_ERROR_TYPES;

/** RFC 6120 §4.9.3 stream error conditions. */
export type StreamErrorCondition =
  | 'bad-format'
  | 'bad-namespace-prefix'
  | 'conflict'
  | 'connection-timeout'
  | 'host-gone'
  | 'host-unknown'
  | 'improper-addressing'
  | 'internal-server-error'
  | 'invalid-from'
  | 'invalid-namespace'
  | 'invalid-xml'
  | 'not-authorized'
  | 'not-well-formed'
  | 'policy-violation'
  | 'remote-connection-failed'
  | 'reset'
  | 'resource-constraint'
  | 'restricted-xml'
  | 'see-other-host'
  | 'system-shutdown'
  | 'undefined-condition'
  | 'unsupported-encoding'
  | 'unsupported-feature'
  | 'unsupported-stanza-type'
  | 'unsupported-version';

/** An expected failure while handling a stanza: becomes a stanza error on the wire. */
export class StanzaError extends Error {
  override readonly name = 'StanzaError';
  constructor(
    readonly condition: StanzaErrorCondition,
    readonly text?: string,
    readonly appCondition?: XmlElement,
  ) {
    super(text ?? condition);
  }
}

export function errorElement(err: StanzaError, by?: string): XmlElement {
  return x(
    'error',
    { type: STANZA_ERROR_TYPES[err.condition], by },
    x(err.condition, { xmlns: NS.stanzaErrors }),
    err.text ? x('text', { xmlns: NS.stanzaErrors, 'xml:lang': 'en' }, err.text) : undefined,
    err.appCondition,
  );
}

/**
 * The error reply to a stanza (RFC 6120 §8.3.1): addresses swapped, original payload kept
 * for messages and presence (so clients can match it), dropped for IQs.
 */
export function errorReply(stanza: XmlElement, err: StanzaError, by?: string): XmlElement {
  const reply = x(stanza.name, {
    xmlns: stanza.attrs.xmlns,
    type: 'error',
    id: stanza.attrs.id,
    from: stanza.attrs.to,
    to: stanza.attrs.from,
  });
  if (stanza.name !== 'iq') reply.children = stanza.children.filter((c) => typeof c !== 'string');
  reply.children.push(errorElement(err, by));
  return reply;
}

export function streamError(
  condition: StreamErrorCondition,
  text?: string,
  appCondition?: XmlElement,
): XmlElement {
  return x(
    'stream:error',
    {},
    x(condition, { xmlns: NS.streamErrors }),
    appCondition,
    text ? x('text', { xmlns: NS.streamErrors, 'xml:lang': 'en' }, text) : undefined,
  );
}

/** Never answer an error with an error (RFC 6120 §8.3.1), nor a result with an error. */
export function mayReplyWithError(stanza: XmlElement): boolean {
  const type = stanza.attrs.type;
  return type !== 'error' && !(stanza.name === 'iq' && type === 'result');
}
