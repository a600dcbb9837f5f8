// How a verdict travels to clients: the urn:rampart:verdict:0 element (for clients that know
// it) and a one-line warning before the body, marked as an XEP-0428 fallback so those
// clients can hide it while every other client still shows it.

import { NS } from '../../stanza/namespaces.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import type { Verdict } from '../verdict.ts';

export const NS_FALLBACK = 'urn:xmpp:fallback:0';

export type VerdictLevel = 'warning' | 'danger';

export function verdictElement(v: Verdict, level: VerdictLevel): XmlElement {
  return x('verdict', { xmlns: NS.verdict, level, threat: v.threat, rule: v.rule }, v.reason);
}

/** The warning line put before the body; plain words, no markup. */
export function warningLine(v: Verdict, level: VerdictLevel): string {
  return `${level === 'danger' ? '⛔ Danger' : '⚠️ Warning'} from your server: ${v.reason}\n`;
}

/**
 * A copy of `msg` carrying the verdict: the element, and the warning line before the first
 * body (with a fallback marker giving its range in code points, XEP-0428 §4).
 */
export function labelMessage(msg: XmlElement, v: Verdict, level: VerdictLevel): XmlElement {
  const out = msg.clone();
  out.children = out.children.filter(
    (c) => typeof c === 'string' || !(c.name === 'verdict' && c.xmlns === NS.verdict),
  );
  out.append(verdictElement(v, level));
  const body = out.getChild('body');
  if (!body) return out;
  const line = warningLine(v, level);
  body.children = [line + body.text()];
  out.append(
    x(
      'fallback',
      { xmlns: NS_FALLBACK, for: NS.verdict },
      x('body', { start: '0', end: String([...line].length) }),
    ),
  );
  return out;
}
