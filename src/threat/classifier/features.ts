// Turns a message and its context into the classifier's sparse features. Text features are
// language-agnostic character n-grams and word tokens over a "shape" of the text in which
// digits, links and addresses are replaced by placeholders, so the model learns patterns
// (an IP with a port, a short lure plus a link) rather than this corpus's particular hosts.
// The rule inspectors' findings (URL flags, DLP signals, file kinds) are features too.

import { machineReport, secretFound } from '../inspectors/dlp-inspector.ts';
import { dlpSignals } from '../inspectors/dlp-signals.ts';
import { judgeFileName } from '../inspectors/file-offer.ts';
import type { InspectContext, InspectMessage } from '../inspectors/types.ts';
import { extractUrls, foldText, readableText } from '../inspectors/url-extract.ts';
import { judgeUrl } from '../inspectors/url-judge.ts';
import { lexiconHits } from './lexicon.ts';

export type Features = Map<string, number>;

const URLISH =
  /\b(?:[a-z][a-z0-9+.-]{1,15}:\/\/|www\.)\S+|\b(?:[\p{L}\p{N}-]+\.)+[a-z]{2,24}(?::\d+)?(?:\/\S*)?/giu;
const IP = /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])/g;

/** The text as the model sees it: folded, links and addresses as placeholders, digits as 0. */
export function textShape(text: string): string {
  return readableText(text)
    .toLowerCase()
    .replace(URLISH, ' ⟨url⟩ ')
    .replace(IP, '⟨ip⟩')
    .replace(/\d/g, '0')
    .replace(/\s+/g, ' ')
    .trim();
}

function addNgrams(out: Features, shape: string): void {
  const grams = new Map<string, number>();
  const padded = ` ${shape} `;
  // Where each character (code point) starts, so n-grams are cut without an array of them.
  const starts: number[] = [];
  for (let i = 0; i < padded.length; i++) {
    const low = padded.charCodeAt(i) >= 0xdc00 && padded.charCodeAt(i) <= 0xdfff;
    const afterHigh =
      i > 0 && padded.charCodeAt(i - 1) >= 0xd800 && padded.charCodeAt(i - 1) <= 0xdbff;
    if (!(low && afterHigh)) starts.push(i);
  }
  starts.push(padded.length);
  for (let n = 2; n <= 4; n++) {
    for (let i = 0; i + n < starts.length; i++) {
      const g = padded.slice(starts[i], starts[i + n]);
      if (g.trim() === '') continue;
      const key = `c:${g}`;
      grams.set(key, (grams.get(key) ?? 0) + 1);
    }
  }
  for (const w of shape.match(/[\p{L}⟨⟩]+/gu) ?? []) {
    if ([...w].length < 2 || /\p{Script=Han}/u.test(w)) continue;
    grams.set(`w:${w}`, (grams.get(`w:${w}`) ?? 0) + 1);
  }
  // Sublinear counts, scaled to unit length so long and short messages weigh the same.
  let norm = 0;
  for (const [k, v] of grams) {
    const s = 1 + Math.log(v);
    grams.set(k, s);
    norm += s * s;
  }
  norm = Math.sqrt(norm) || 1;
  for (const [k, v] of grams) out.set(k, v / norm);
}

/** Only the start of a long body is scored: enough to judge it, and bounded in cost. */
export const MAX_FEATURE_CHARS = 2000;

export function extractFeatures(full: InspectMessage, ctx: InspectContext): Features {
  const msg: InspectMessage = { ...full, text: full.text.slice(0, MAX_FEATURE_CHARS) };
  const f: Features = new Map();
  const shape = textShape(msg.text);
  addNgrams(f, shape);
  const on = (name: string, value = 1): void => {
    if (value !== 0) f.set(name, value);
  };
  on(ctx.senderIsContact ? 'ctx:contact' : 'ctx:stranger');
  on('ctx:fanout-log', Math.log1p(Math.max(0, ctx.fanout - 1)) / Math.log(100));
  on('ctx:mass-send', ctx.fanout > 3 ? 1 : 0);
  // A colleague's broadcast and a stranger's mass send are different things.
  if (ctx.fanout > 3) on(ctx.senderIsContact ? 'ctx:contact-broadcast' : 'ctx:stranger-mass');
  if (ctx.senderAgeDays !== undefined && ctx.senderAgeDays < 7) on('ctx:new-account');
  if (msg.fileName !== undefined) {
    on('file:any');
    on(`file:${judgeFileName(msg.fileName)?.kind ?? 'ordinary'}`);
  }
  const urls = extractUrls(msg.text).map(judgeUrl);
  if (urls.length > 0) on('url:any');
  for (const u of urls) {
    if (u.internal) on('url:internal');
    if (u.wellKnown) on('url:well-known');
    for (const finding of u.findings) {
      on(`url:${finding.flag}`);
      on(`url-strength:${finding.strength}`);
    }
  }
  if (urls.length > 0 && !ctx.senderIsContact) on('url:from-stranger');
  if (urls.length > 0 && ctx.fanout > 3) on('url:mass-send');
  const s = dlpSignals(msg.text);
  if (secretFound(s)) on('dlp:secret');
  if (machineReport(s)) on('dlp:machine-report');
  if (s.ipAddresses > 0) on('dlp:ip');
  if (s.publicIps > 0) on('dlp:public-ip');
  if (s.ipWithPort > 0) on('dlp:ip-port');
  if (s.portList) on('dlp:port-list');
  if (s.hostNames > 0) on('dlp:host-name');
  on('dlp:report-keys', Math.min(s.reportKeys, 5) / 5);
  if (s.credentialValue > 0) on('dlp:credential-value');
  if (s.credentialPairs > 0) on('dlp:credential-pair');
  // Word families, alone and combined with the context that makes them suspicious.
  const folded = foldText(msg.text);
  const families = lexiconHits(folded);
  for (const fam of families) {
    on(`lex:${fam}`);
    if (!ctx.senderIsContact) on(`lex-stranger:${fam}`);
    if (ctx.fanout > 3) on(`lex-mass:${fam}`);
  }
  on('lex:count', Math.min(families.length, 4) / 4);
  const len = [...shape].length;
  if (len < 40) on('shape:short');
  if (/\p{Extended_Pictographic}/u.test(msg.text)) on('shape:emoji');
  if (/[!?！？]{2,}/.test(msg.text)) on('shape:bang-run');
  if (/[$€£¥₫]|\b\d+\s?(?:%|usd|vnd|k\b|triệu|万|萬|元)/iu.test(msg.text)) on('shape:money');
  if (msg.text.includes('\n')) on('shape:multiline');
  return f;
}
