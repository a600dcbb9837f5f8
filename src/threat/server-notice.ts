import { randomUUID } from 'node:crypto';
import { NS } from '../stanza/namespaces.ts';
import { type XmlElement, x } from '../xml/element.ts';

/**
 * A plain-language notice to a user from the server itself: sent only from the bare domain JID
 * (T4: nothing else may speak for the server) and labelled with a `<notice/>` element in
 * `urn:rampart:notice:0` naming the threat and rule, so a client can show it as a server notice.
 */
export function serverNotice(
  domain: string,
  to: string,
  text: string,
  label: { threat: string; rule: string },
): XmlElement {
  return x(
    'message',
    { from: domain, to, type: 'chat', id: `notice-${randomUUID()}` },
    x('body', {}, text),
    x('notice', { xmlns: NS.notice, threat: label.threat, rule: label.rule }),
  );
}
