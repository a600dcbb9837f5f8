// T2: a file offered with a message. Programs and disguised names ("invoice.pdf.exe", a
// right-to-left override that flips the visible extension) are held; archives are held
// when they come from a stranger or go to many people, and labelled otherwise.

import { type Inspector, verdict } from './types.ts';
import { MASS_SEND_FANOUT } from './url-inspector.ts';
import { ARCHIVE_EXTENSIONS, EXECUTABLE_EXTENSIONS } from './url-lists.ts';

const DOCUMENT_LIKE = /\.(pdf|docx?|xlsx?|pptx?|txt|jpe?g|png|gif|mp[34]|avi|mov|rtf|csv)$/i;
const BIDI = /[\u202a-\u202e\u2066-\u2069]/;

export type FileJudgement = { kind: 'executable' | 'disguised' | 'archive'; detail: string };

export function judgeFileName(name: string): FileJudgement | undefined {
  // Windows drops trailing dots and spaces: "setup.exe. " runs as setup.exe.
  const clean = name
    .trim()
    .toLowerCase()
    .replace(/[.\s]+$/, '');
  if (BIDI.test(clean)) {
    return { kind: 'disguised', detail: `the file name "${name}" hides its real extension` };
  }
  const parts = clean.split('.');
  const ext = parts.length > 1 ? parts[parts.length - 1]! : '';
  if (EXECUTABLE_EXTENSIONS.has(ext)) {
    const stem = parts.slice(0, -1).join('.');
    if (DOCUMENT_LIKE.test(stem.trimEnd()) || /\s{3,}$/.test(stem)) {
      return { kind: 'disguised', detail: `"${name}" pretends to be a document but is a program` };
    }
    return { kind: 'executable', detail: `"${name}" is a program (.${ext})` };
  }
  if (ARCHIVE_EXTENSIONS.has(ext)) return { kind: 'archive', detail: `"${name}" is an archive` };
  return undefined;
}

export const fileOfferInspector: Inspector = {
  name: 'file-offer',
  threat: 'T2',
  inspect(msg, ctx) {
    if (msg.fileName === undefined) return undefined;
    const j = judgeFileName(msg.fileName);
    if (!j) return undefined;
    const unusual = !ctx.senderIsContact || ctx.fanout > MASS_SEND_FANOUT;
    const action = j.kind !== 'archive' || unusual ? 'hold' : 'label';
    return verdict(action, 'T2', `file-offer.${j.kind}`, `Risky file: ${j.detail}.`, {
      fileName: msg.fileName,
      kind: j.kind,
    });
  },
};
