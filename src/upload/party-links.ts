import type { XmlElement } from '../xml/element.ts';
import { UPLOAD_PATH } from './service.ts';
import { partyToken, verifyPartyToken } from './slot-token.ts';

/**
 * download_access = 'party': every download URL names one party (`?for=JID&sig=HMAC`). When a
 * party sends a link to someone, the server rewrites it on the way into a link for the
 * recipient; a link pasted by anyone else (or with a bad signature) is left alone, so its
 * holder can only use it if it was theirs. Bodies and XEP-0066 out-of-band URLs are rewritten.
 */
export function partyLinkRewriter(
  origin: () => string,
  signKey: Buffer,
): (msg: XmlElement, sender: string, recipient: string) => number {
  return (msg, sender, recipient) => {
    const base = `${origin()}${UPLOAD_PATH}`;
    if (base === UPLOAD_PATH) return 0;
    const pattern = new RegExp(
      `${escapeRegExp(base)}([\\w-]{16,64})/([^\\s?#<>"]*)\\?for=([^&\\s#<>"]+)&sig=([\\w-]+)`,
      'g',
    );
    let rewritten = 0;
    const rewrite = (text: string) =>
      text.replace(pattern, (link, id: string, name: string, forParty: string, sig: string) => {
        let party: string;
        try {
          party = decodeURIComponent(forParty);
        } catch {
          return link;
        }
        if (party !== sender || !verifyPartyToken(signKey, id, party, sig)) return link;
        rewritten++;
        const q = new URLSearchParams({ for: recipient, sig: partyToken(signKey, id, recipient) });
        return `${base}${id}/${name}?${q}`;
      });
    for (const el of [
      ...msg.getChildren('body'),
      ...msg.getChildren('x', 'jabber:x:oob').flatMap((x) => x.getChildren('url')),
    ]) {
      el.children = el.children.map((c) => (typeof c === 'string' ? rewrite(c) : c));
    }
    return rewritten;
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
