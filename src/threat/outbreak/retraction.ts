// The zero-hour purge's message to a recipient: an XEP-0424 retraction of the bad copy, in the
// name of its sender (clients only honour a retraction from the original sender's bare JID),
// with an XEP-0428 fallback body that explains, for clients without retraction support.

import { randomUUID } from 'node:crypto';
import { NS } from '../../stanza/namespaces.ts';
import { type XmlElement, x } from '../../xml/element.ts';

export const NS_RETRACT = 'urn:xmpp:message-retract:1';
export const NS_FALLBACK = 'urn:xmpp:fallback:0';
export const NS_HINTS = 'urn:xmpp:hints';

export type RetractionInput = {
  sender: string;
  recipient: string;
  /** The original's origin-id or id attribute. */
  messageId: string;
  /** Plain words: why the message was removed. */
  reason: string;
  threat: string;
  rule: string;
};

/** The text a client without XEP-0424 shows, and the verdict a Rampart-aware client reads. */
export function purgeNotice(sender: string, reason: string): string {
  return (
    `Rampart removed a message ${sender} sent you earlier: ${reason} ` +
    'Do not open its link or file. If you already did, tell your administrator.'
  );
}

export function retractionMessage(r: RetractionInput): XmlElement {
  const text = purgeNotice(r.sender, r.reason);
  return x(
    'message',
    { type: 'chat', id: `purge-${randomUUID()}`, from: r.sender, to: r.recipient },
    x('retract', { xmlns: NS_RETRACT, id: r.messageId }),
    x('fallback', { xmlns: NS_FALLBACK, for: NS_RETRACT }),
    x('body', {}, text),
    x('store', { xmlns: NS_HINTS }),
    x('verdict', { xmlns: NS.verdict, level: 'danger', threat: r.threat, rule: r.rule }, text),
  );
}

/** True for the purge's own messages: they are never inspected or logged as deliveries. */
export function isRetraction(msg: XmlElement): boolean {
  return msg.getChild('retract', NS_RETRACT) !== undefined;
}
