import type { XmlElement } from '../xml/element.ts';
import { x } from '../xml/element.ts';
import { UPLOAD_PATH } from './service.ts';

/**
 * Labels messages that carry this server's own download links with the file's SHA-256
 * (`<upload xmlns='urn:rampart:upload:0' id=… ><hash xmlns='urn:xmpp:hashes:2'/></upload>`),
 * so the threat engine's fan-out and outbreak detection count the file itself (one file sent
 * to many contacts, even under per-recipient URLs) and clients may verify what they download.
 * Elements in that namespace that a client wrote itself are removed first: only the server
 * speaks for its files.
 */
export const NS_RAMPART_UPLOAD = 'urn:rampart:upload:0';
const NS_HASHES = 'urn:xmpp:hashes:2';

export function fileLinkLabeller(
  origin: () => string,
  hashOf: (id: string) => string | undefined,
): (msg: XmlElement) => number {
  return (msg) => {
    msg.children = msg.children.filter(
      (c) => typeof c === 'string' || c.xmlns !== NS_RAMPART_UPLOAD,
    );
    const base = `${origin()}${UPLOAD_PATH}`;
    if (base === UPLOAD_PATH) return 0;
    const texts = [
      ...msg.getChildren('body').map((b) => b.text()),
      ...msg.getChildren('x', 'jabber:x:oob').map((o) => o.getChildText('url') ?? ''),
    ];
    const ids = new Set<string>();
    for (const text of texts) {
      let at = text.indexOf(base);
      while (at !== -1) {
        const id = /^[\w-]{16,64}/.exec(text.slice(at + base.length))?.[0];
        if (id !== undefined) ids.add(id);
        at = text.indexOf(base, at + base.length);
      }
    }
    let labelled = 0;
    for (const id of ids) {
      const sha256 = hashOf(id);
      if (sha256 === undefined) continue;
      msg.children.push(
        x(
          'upload',
          { xmlns: NS_RAMPART_UPLOAD, id },
          x(
            'hash',
            { xmlns: NS_HASHES, algo: 'sha-256' },
            Buffer.from(sha256, 'hex').toString('base64'),
          ),
        ),
      );
      labelled++;
    }
    return labelled;
  };
}
