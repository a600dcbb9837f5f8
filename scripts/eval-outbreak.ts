// npm run eval:outbreak -- [FILE] [--json]
// Measures the fan-out and outbreak detector on a labelled corpus (default: the dev corpus):
//  1. mass sends: every message is sent by a fresh account to as many people as its context's
//     `fanout` says, within one minute, through the engine (for `stopped`) and the detector;
//     the share of each label whose sender is quarantined (ham must stay at 0);
//  2. broadcasts: every ham message sent to 6 and to 40 people (more than K) the same way;
//  3. the text fingerprint: the share of pairs of different ham messages that would count as
//     "the same text" (false matches), and the share of near-copies found (a word appended,
//     changed or dropped; digits changed) among messages of 6 words or more.

import { readCorpus } from '../src/threat/classifier/corpus.ts';
import { evaluateMessage } from '../src/threat/engine/evaluate.ts';
import { extractArtefacts } from '../src/threat/outbreak/artefacts.ts';
import { ArtefactBlocklist } from '../src/threat/outbreak/blocklist.ts';
import { DEFAULT_OUTBREAK_SETTINGS, OutbreakDetector } from '../src/threat/outbreak/detector.ts';
import { fingerprintTokens, textFingerprint } from '../src/threat/outbreak/fingerprint.ts';
import { isStopped } from '../src/threat/verdict.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const file = args.find((a) => !a.startsWith('--')) ?? '/work/shared/corpus/messages.dev.jsonl';
const items = readCorpus(file);
const K = DEFAULT_OUTBREAK_SETTINGS.fanoutRecipients;

/** One fresh account sends the message to n people, 100 ms apart; quarantined? */
function massSend(
  text: string,
  fileName: string | undefined,
  contact: boolean,
  n: number,
): boolean {
  const detector = new OutbreakDetector(DEFAULT_OUTBREAK_SETTINGS, new ArtefactBlocklist());
  const artefacts = extractArtefacts(fileName ? { text, fileNames: [fileName] } : { text });
  for (let i = 0; i < n; i++) {
    const now = i * 100;
    const fanout = detector.track('sender', `r${i}`, artefacts, now);
    const msg = fileName ? { text, fileName } : { text };
    const { verdict } = evaluateMessage(msg, { senderIsContact: contact, fanout });
    const judged = detector.judge('sender', artefacts, isStopped(verdict.action), now);
    if (judged.stop?.kind === 'fanout') return true;
  }
  return false;
}

const byLabel = new Map<string, { mass: number; quarantined: number }>();
for (const item of items) {
  if (item.ctx.fanout <= K) continue;
  const row = byLabel.get(item.label) ?? { mass: 0, quarantined: 0 };
  row.mass++;
  if (massSend(item.msg.text, item.msg.fileName, item.ctx.senderIsContact, item.ctx.fanout))
    row.quarantined++;
  byLabel.set(item.label, row);
}

const ham = items.filter((i) => i.label === 'ham');
const broadcast = [6, 40].map((n) => {
  const hits = ham.filter((i) => massSend(i.msg.text, i.msg.fileName, true, n));
  return { recipients: n, quarantined: hits.length, examples: hits.slice(0, 3).map((i) => i.id) };
});

// Text fingerprint: false matches between different ham texts, and near-copies found.
const prints = ham.map((i) => new Set(textFingerprint(i.msg.text)));
let pairs = 0;
let falseMatches = 0;
for (let a = 0; a < ham.length; a++) {
  for (let b = a + 1; b < ham.length; b++) {
    if (ham[a]!.msg.text === ham[b]!.msg.text || prints[a]!.size === 0) continue;
    pairs++;
    for (const k of prints[b]!) {
      if (prints[a]!.has(k)) {
        falseMatches++;
        break;
      }
    }
  }
}
const variants: Array<[string, (words: string[]) => string[]]> = [
  ['append a word', (w) => [...w, 'xq7']],
  ['change one word', (w) => w.map((x, i) => (i === Math.floor(w.length / 2) ? 'zzz' : x))],
  ['drop one word', (w) => w.filter((_, i) => i !== 1)],
  ['change the digits', (w) => w.map((x) => x.replace(/\d/g, '7'))],
];
const long = items.filter((i) => fingerprintTokens(i.msg.text).length >= 6);
const nearCopies = variants.map(([name, change]) => {
  const found = long.filter((i) => {
    const original = new Set(textFingerprint(i.msg.text));
    const copy = textFingerprint(change(i.msg.text.split(/\s+/)).join(' '));
    return copy.some((k) => original.has(k));
  }).length;
  return { change: name, found: found / long.length };
});

const summary = {
  n: items.length,
  K,
  massSends: Object.fromEntries(
    [...byLabel].map(([label, r]) => [label, { ...r, rate: r.quarantined / r.mass }]),
  ),
  hamBroadcasts: broadcast,
  textFingerprint: {
    hamPairs: pairs,
    falseMatchRate: falseMatches / pairs,
    nearCopiesOf: long.length,
    nearCopies,
  },
};
if (json) console.log(JSON.stringify(summary));
else console.log(JSON.stringify(summary, null, 2));
