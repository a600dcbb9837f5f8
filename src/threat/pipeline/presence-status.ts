// T1 spim through presence: a subscription request or a directed presence reaches people
// who never accepted the sender, and clients show its <status/> and nickname ("add me! see
// http://..."). A status with a link, or built to break the display, is removed from such
// presences before routing; the presence itself still goes through.

import type { ServerContext } from '../../server/context.ts';
import type { Session } from '../../session/session.ts';
import type { XmlElement } from '../../xml/element.ts';
import { modeOf, type ThreatPolicy } from '../engine/policy.ts';
import { contentFindings } from '../inspectors/content-guard.ts';
import { extractUrls } from '../inspectors/url-extract.ts';

const NS_NICK = 'http://jabber.org/protocol/nick';

/** Presences that reach beyond approved subscribers: requests and directed presence. */
function reachesOthers(stanza: XmlElement, session: Session): boolean {
  const to = stanza.attrs.to;
  if (stanza.name !== 'presence' || to === undefined) return false;
  const type = stanza.attrs.type;
  if (type === 'subscribe') return true;
  return (type === undefined || type === 'unavailable') && to.split('/')[0] !== session.bare;
}

/** The texts a client shows with a presence: the status and a nickname (XEP-0172). */
function shownText(el: XmlElement): boolean {
  return el.name === 'status' || (el.name === 'nick' && el.xmlns === NS_NICK);
}

export function presenceStatusFilter(ctx: ServerContext, policy: () => ThreatPolicy): void {
  ctx.router.outboundFilters.push((stanza, session) => {
    if (!reachesOthers(stanza, session)) return 'continue';
    const text = stanza
      .elements()
      .filter(shownText)
      .map((s) => s.text())
      .join('\n');
    if (text.trim() === '') return 'continue';
    const mode = modeOf(policy(), 'url');
    if (mode === 'off') return 'continue';
    const links = extractUrls(text).map((u) => u.url);
    const findings = contentFindings(text, policy().contentGuard).map((f) => f.rule);
    if (links.length === 0 && findings.length === 0) return 'continue';
    ctx.events.record({
      threat: 'T1',
      rule: 'presence.status',
      actor: session.jid.full,
      target: stanza.attrs.to!.split('/')[0]!,
      verdict: mode === 'enforce' ? 'label' : 'allow',
      evidence: { type: stanza.attrs.type ?? 'available', links, findings, mode },
    });
    if (mode === 'enforce') {
      stanza.children = stanza.children.filter((c) => typeof c === 'string' || !shownText(c));
    }
    return 'continue';
  });
}
