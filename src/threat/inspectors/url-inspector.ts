// T2: judges every link in a message. Links that run code (javascript:, data:, file:,
// vbscript:) refuse it; other strong findings (disguised links, encoded IPs, programs,
// look-alikes) hold the message; medium ones (bare public IPs,
// odd ports, shorteners, archives) hold it when it comes from a stranger or goes to many
// people at once, and otherwise only label it.

import type { Verdict } from '../verdict.ts';
import { type Inspector, verdict } from './types.ts';
import { extractUrls } from './url-extract.ts';
import { judgeUrl, type UrlJudgement } from './url-judge.ts';

/** Recipients within a minute above which a medium finding is treated as a mass send. */
export const MASS_SEND_FANOUT = 3;

/** Where the server serves files it has scanned (its own upload links): not judged again. */
const trustedPrefixes = new Set<string>();

/** Registers an origin+path prefix of this server's own scanned downloads (upload feature). */
export function trustUrlPrefix(prefix: string): void {
  trustedPrefixes.add(prefix);
}

function isTrusted(u: { url: string; obfuscated: boolean; defanged: boolean; userinfo?: string }) {
  if (u.obfuscated || u.defanged || u.userinfo !== undefined) return false;
  for (const p of trustedPrefixes) if (u.url.startsWith(p)) return true;
  return false;
}

export function judgeAllUrls(text: string): UrlJudgement[] {
  return extractUrls(text)
    .filter((u) => !isTrusted(u))
    .map(judgeUrl);
}

export const urlInspector: Inspector = {
  name: 'url',
  threat: 'T2',
  inspect(msg, ctx): Verdict | undefined {
    const judged = judgeAllUrls(msg.text).filter((j) => j.findings.length > 0);
    const all = judged.flatMap((j) => j.findings);
    const strong = all.filter((f) => f.strength === 'strong');
    const medium = all.filter((f) => f.strength === 'medium');
    if (strong.length === 0 && medium.length === 0) return undefined;
    const unusual = !ctx.senderIsContact || ctx.fanout > MASS_SEND_FANOUT;
    const dangerous = all.some(
      (f) => f.flag === 'dangerous-scheme' || f.flag === 'legacy-im-scheme',
    );
    // A link that runs code when clicked (T9) is never worth a review: it is refused.
    const executes = all.some((f) => f.flag === 'dangerous-scheme');
    const action = executes
      ? 'refuse'
      : strong.length > 0 || (medium.length > 0 && unusual)
        ? 'hold'
        : 'label';
    const shown = (strong.length > 0 ? strong : medium).map((f) => f.detail);
    return verdict(
      action,
      dangerous ? 'T9' : 'T2',
      dangerous ? 'url.scheme' : 'url',
      `Suspicious link: ${[...new Set(shown)].join('; ')}.`,
      {
        urls: judged.map((j) => ({
          url: j.url,
          host: j.host,
          flags: j.findings.map((f) => f.flag),
        })),
      },
    );
  },
};
