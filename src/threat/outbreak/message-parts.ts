// Reads what the artefact extractor needs from a message stanza: the bodies, out-of-band
// links (XEP-0066), file names and SHA-256 hashes of offered files (XEP-0300 hashes as used by
// stateless file sharing, SIMS and Jingle file transfer; XEP-0446 file metadata).

import type { XmlElement } from '../../xml/element.ts';
import type { MessageParts } from './artefacts.ts';

const NS_OOB = 'jabber:x:oob';
const NS_HASHES = 'urn:xmpp:hashes:2';
const MAX_DEPTH = 8;

function fileNameOfUrl(url: string): string | undefined {
  try {
    const name = decodeURIComponent(url.split(/[?#]/)[0]!.split('/').pop() ?? '');
    return /\.[a-z0-9]{1,10}$/i.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

function walk(
  el: XmlElement,
  depth: number,
  visit: (e: XmlElement, parent: XmlElement) => void,
): void {
  if (depth > MAX_DEPTH) return;
  for (const c of el.elements()) {
    visit(c, el);
    walk(c, depth + 1, visit);
  }
}

export function messageParts(msg: XmlElement): MessageParts {
  const text = msg
    .getChildren('body')
    .map((b) => b.text())
    .join('\n');
  const extraUrls: string[] = [];
  const sha256: string[] = [];
  const fileNames = new Set<string>();
  walk(msg, 0, (e, parent) => {
    if (e.name === 'x' && e.xmlns === NS_OOB) {
      const url = e.getChildText('url')?.trim();
      if (url) {
        extraUrls.push(url);
        const name = fileNameOfUrl(url);
        if (name !== undefined) fileNames.add(name);
      }
    } else if (e.name === 'hash' && e.xmlns === NS_HASHES && e.attrs.algo === 'sha-256') {
      const hex = Buffer.from(e.text().trim(), 'base64').toString('hex');
      if (hex.length === 64) sha256.push(hex);
    } else if (e.name === 'name' && parent.name === 'file' && e.text().trim() !== '') {
      // <file><name> of XEP-0446 metadata and Jingle file transfer.
      fileNames.add(e.text().trim());
    }
  });
  return { text, extraUrls, sha256, fileNames: [...fileNames] };
}
