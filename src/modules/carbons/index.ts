import type { ServerContext } from '../../server/context.ts';
import type { Session } from '../../session/session.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { NS } from '../../stanza/namespaces.ts';
import { type XmlElement, x } from '../../xml/element.ts';

export const NS_CARBONS = 'urn:xmpp:carbons:2';
export const NS_FORWARD = 'urn:xmpp:forward:0';
export const NS_HINTS = 'urn:xmpp:hints';

/**
 * XEP-0280 message carbons: a resource that enabled them gets a copy of the chat messages its
 * account receives on other resources and of those its sibling resources send, each wrapped in
 * <received/> or <sent/> with a XEP-0297 <forwarded/>.
 */
export function carbonsModule(ctx: ServerContext): void {
  const enabled = new WeakSet<Session>();

  ctx.router.onAccountIq('set', NS_CARBONS, (iq, req) => {
    if (req.from.bare !== req.to.bare || !req.session) throw new StanzaError('forbidden');
    const command = iq.elements()[0]!.name;
    if (command === 'enable') enabled.add(req.session);
    else if (command === 'disable') enabled.delete(req.session);
    else throw new StanzaError('bad-request', 'expected <enable/> or <disable/>');
    return undefined;
  });

  // A carbon copy is the server's word that the account sent or received a message, so a
  // client may not hand one to anybody: a forged <received/> would put words in a contact's
  // mouth on the recipient's other devices (T4).
  ctx.router.outboundFilters.push((stanza, session) => {
    if (stanza.name !== 'message' || !isCarbon(stanza)) return 'continue';
    ctx.events.record({
      threat: 'T4',
      rule: 'carbons.forged',
      actor: session.jid.full,
      target: stanza.attrs.to ?? session.bare,
      address: session.address,
      verdict: 'refuse',
    });
    return new StanzaError('bad-request', 'clients do not send carbon copies; the server does');
  });

  /** The user's other resources that asked for copies, except those that have the message. */
  function copyTargets(account: string, except: (s: Session) => boolean): Session[] {
    return ctx.sessions.of(account).filter((s) => enabled.has(s) && !except(s));
  }

  function copy(kind: 'sent' | 'received', msg: XmlElement, to: Session): XmlElement {
    return x(
      'message',
      { from: to.bare, to: to.jid.full, type: msg.attrs.type ?? 'normal' },
      x(
        kind,
        { xmlns: NS_CARBONS },
        x('forwarded', { xmlns: NS_FORWARD }, msg.withAttrs({ xmlns: NS.client })),
      ),
    );
  }

  ctx.router.messageTaps.push({
    sent(msg, from) {
      if (!eligible(msg)) return;
      const to = msg.attrs.to;
      for (const s of copyTargets(from.bare, (s) => s === from || s.jid.full === to))
        s.send(copy('sent', msg, s));
    },
    delivered(msg, to, recipients) {
      if (!eligible(msg)) return;
      const sender = msg.attrs.from;
      for (const s of copyTargets(to.bare, (s) => recipients.includes(s) || s.jid.full === sender))
        s.send(copy('received', msg, s));
    },
  });

  ctx.hooks.on('session-closed', (session) => enabled.delete(session));
}

function isCarbon(msg: XmlElement): boolean {
  return (
    msg.getChild('sent', NS_CARBONS) !== undefined ||
    msg.getChild('received', NS_CARBONS) !== undefined
  );
}

/**
 * XEP-0280 §6: chat messages, and normal ones with a body, unless the sender asked for no
 * copies (<private/>, or the XEP-0334 <no-copy/> hint).
 */
function eligible(msg: XmlElement): boolean {
  const type = msg.attrs.type ?? 'normal';
  if (type !== 'chat' && !(type === 'normal' && msg.getChild('body') !== undefined)) return false;
  if (msg.getChild('private', NS_CARBONS) || msg.getChild('no-copy', NS_HINTS)) return false;
  return !isCarbon(msg);
}
