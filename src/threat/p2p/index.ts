// T3/T6: no peer-to-peer file transfer by default. Jingle file transfer, SI with SOCKS5
// bytestreams, in-band bytestreams and out-of-band data with a direct address open a path
// between two clients that the server cannot scan and that reveals their IP addresses; files
// go through HTTP upload instead. Where policy allows transfers, the candidates that carry a
// user's own address are still taken out of Jingle transports.

import type { ServerContext } from '../../server/context.ts';
import type { Session } from '../../session/session.ts';
import { StanzaError } from '../../stanza/errors.ts';
import type { XmlElement } from '../../xml/element.ts';

const NS_JINGLE = 'urn:xmpp:jingle:1';
const NS_JINGLE_MESSAGE = 'urn:xmpp:jingle-message:0';
const FT_PREFIX = 'urn:xmpp:jingle:apps:file-transfer:';
const NS_SI = 'http://jabber.org/protocol/si';
const NS_BYTESTREAMS = 'http://jabber.org/protocol/bytestreams';
const NS_IBB = 'http://jabber.org/protocol/ibb';
const NS_IQ_OOB = 'jabber:iq:oob';
const NS_X_OOB = 'jabber:x:oob';
const NS_ICE = 'urn:xmpp:jingle:transports:ice-udp:1';
const NS_S5B = 'urn:xmpp:jingle:transports:s5b:1';

/** ICE candidate types that are the client's own address (only `relay` is not). */
const ICE_DIRECT = new Set(['host', 'srflx', 'prflx']);
/** Jingle SOCKS5 candidate types that are the client's own address (only `proxy` is not). */
const S5B_DIRECT = new Set(['direct', 'assisted', 'tunnel']);

export const P2P_REFUSAL =
  'Peer-to-peer file transfer is turned off on this server: share the file with HTTP upload (the attach button of your app) instead; uploaded files are scanned before anyone can download them.';

/**
 * Which peer-to-peer transfer a stanza starts or carries, if any. `ownHosts` are the server's
 * own names (its domain, its upload origin): links there are not direct addresses.
 */
export function p2pTransferOf(
  stanza: XmlElement,
  ownHosts: ReadonlySet<string> = new Set(),
): string | undefined {
  if (stanza.name === 'iq') {
    if (stanza.attrs.type === 'result' || stanza.attrs.type === 'error') return undefined;
    const payload = stanza.elements()[0];
    switch (payload?.xmlns) {
      case NS_JINGLE:
        return offersFile(payload) ? 'jingle-file-transfer' : undefined;
      case NS_SI:
        return 'si-file-transfer';
      case NS_BYTESTREAMS:
        return 'socks5-bytestreams';
      case NS_IBB:
        return 'in-band-bytestreams';
      case NS_IQ_OOB:
        return 'iq-oob';
      default:
        return undefined;
    }
  }
  if (stanza.name !== 'message') return undefined;
  for (const child of stanza.elements()) {
    if (child.xmlns === NS_IBB) return 'in-band-bytestreams';
    if (child.xmlns === NS_JINGLE_MESSAGE && offersFile(child)) return 'jingle-file-transfer';
    if (
      child.name === 'x' &&
      child.xmlns === NS_X_OOB &&
      isDirectUrl(child.getChildText('url'), ownHosts)
    )
      return 'oob-direct-address';
  }
  return undefined;
}

function offersFile(el: XmlElement): boolean {
  const descriptions = [
    ...el.getChildren('description'),
    ...el.getChildren('content').flatMap((c) => c.getChildren('description')),
  ];
  return descriptions.some((d) => d.xmlns?.startsWith(FT_PREFIX) === true);
}

/** A URL whose host is an IP address or a local name: a client's own machine, not a server. */
export function isDirectUrl(
  url: string | undefined,
  ownHosts: ReadonlySet<string> = new Set(),
): boolean {
  if (url === undefined) return false;
  let host: string;
  try {
    host = new URL(url.trim()).hostname;
  } catch {
    return false;
  }
  if (ownHosts.has(host)) return false;
  return (
    /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ||
    host.startsWith('[') ||
    host === 'localhost' ||
    host.endsWith('.local') ||
    !host.includes('.')
  );
}

/** Removes address-revealing candidates from Jingle transports in place; returns how many. */
export function stripDirectCandidates(jingle: XmlElement): number {
  let removed = 0;
  for (const content of jingle.getChildren('content')) {
    for (const transport of content.getChildren('transport')) {
      const direct =
        transport.xmlns === NS_ICE
          ? ICE_DIRECT
          : transport.xmlns === NS_S5B
            ? S5B_DIRECT
            : undefined;
      if (direct === undefined) continue;
      const before = transport.children.length;
      transport.children = transport.children.filter(
        (c) =>
          typeof c === 'string' || c.name !== 'candidate' || !direct.has(c.attrs.type ?? 'host'),
      );
      removed += before - transport.children.length;
    }
  }
  return removed;
}

export function p2pPolicy(ctx: ServerContext): void {
  const { file_transfer, direct_candidates } = ctx.config.p2p;
  const ownHosts = new Set([ctx.domain]);
  if (ctx.config.upload.public_url) ownHosts.add(new URL(ctx.config.upload.public_url).hostname);
  ctx.router.outboundFilters.push((stanza: XmlElement, session: Session) => {
    const to = stanza.attrs.to;
    if (to === undefined || to === ctx.domain) return 'continue';
    const transfer = p2pTransferOf(stanza, ownHosts);
    if (transfer !== undefined && file_transfer === 'refuse') {
      ctx.events.record({
        threat: 'T3',
        rule: 'p2p.file-transfer',
        actor: session.bare,
        target: to,
        verdict: 'refuse',
        evidence: { protocol: transfer, stanza: stanza.name },
      });
      return new StanzaError('policy-violation', P2P_REFUSAL);
    }
    const jingle = stanza.name === 'iq' ? stanza.getChild('jingle', NS_JINGLE) : undefined;
    if (jingle !== undefined && direct_candidates === 'strip') {
      const removed = stripDirectCandidates(jingle);
      if (removed > 0) {
        ctx.events.record({
          threat: 'T6',
          rule: 'p2p.direct-candidates',
          actor: session.bare,
          target: to,
          verdict: 'label',
          evidence: { removed, action: jingle.attrs.action, sid: jingle.attrs.sid },
        });
      }
    }
    return 'continue';
  });
}
