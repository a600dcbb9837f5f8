import type { ServerContext } from '../../server/context.ts';
import type { Session } from '../../session/session.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { Jid } from '../../stanza/jid.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import type { RosterService } from '../roster/roster-service.ts';
import { PresenceBroadcaster } from './broadcast.ts';
import { Subscriptions, type SubscriptionType } from './subscriptions.ts';

const SUBSCRIPTION_TYPES = new Set(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']);
export const LAST_ACTIVITY_KEY = 'last-activity';

export interface PresenceModule {
  broadcaster: PresenceBroadcaster;
  subscriptions: Subscriptions;
}

/** RFC 6121 §3-4: subscriptions, presence broadcast, probes and directed presence. */
export function presenceModule(ctx: ServerContext, rosters: RosterService): PresenceModule {
  const broadcaster = new PresenceBroadcaster(ctx, rosters);
  const subscriptions = new Subscriptions(ctx, rosters, broadcaster);
  ctx.router.presenceAuthority = (owner, viewer) => rosters.approves(owner, viewer);

  ctx.router.presence = {
    fromClient: async (stanza, session) => {
      const type = stanza.attrs.type;
      const to = stanza.attrs.to === undefined ? undefined : Jid.parse(stanza.attrs.to);
      if (type !== undefined && SUBSCRIPTION_TYPES.has(type)) {
        if (!to || to.isDomain)
          throw new StanzaError('bad-request', 'subscriptions are addressed to a contact');
        if (to.domain !== ctx.domain)
          throw new StanzaError('remote-server-not-found', 'federation is off on this server');
        // Subscription stanzas travel between bare JIDs (RFC 6121 §3.1.1).
        stanza.attrs.from = session.bare;
        // Refused by the contact's inbound filters (it blocks us): no roster state changes.
        if (!ctx.router.mayDeliver(stanza, to.bare)) return;
        return subscriptions.outbound(type as SubscriptionType, session.bare, to.bare, stanza);
      }
      if (type === 'probe') return probe(session, to);
      if (type === 'error') return;
      if (to === undefined || (to.bare === session.bare && to.isBare))
        return broadcastOwn(session, stanza);
      return directed(session, stanza, to);
    },
  };

  async function broadcastOwn(session: Session, stanza: XmlElement): Promise<void> {
    if (stanza.attrs.type === 'unavailable') {
      const wasAvailable = session.available;
      session.available = false;
      session.presence = undefined;
      if (wasAvailable) await sendUnavailable(session, stanza);
      return;
    }
    const initial = !session.available;
    session.available = true;
    session.priority = parsePriority(stanza);
    delete stanza.attrs.to;
    session.presence = stanza;
    await broadcaster.broadcast(session, stanza);
    if (!initial) return;
    // Initial presence: learn the presence of those we are subscribed to (the probe, §4.2.2),
    // then receive what waited for us.
    const { items } = await rosters.list(session.bare);
    for (const item of items) {
      if (item.subscription === 'to' || item.subscription === 'both') {
        broadcaster.sendCurrentPresence(item.contact, session);
      }
    }
    broadcaster.sendCurrentPresence(session.bare, session);
    await subscriptions.redeliverPending(session.bare, (s) => {
      if (ctx.router.mayDeliver(s, session.bare)) session.send(s);
    });
    ctx.hooks.emit('initial-presence', session);
  }

  async function sendUnavailable(session: Session, stanza?: XmlElement): Promise<void> {
    const unavailable = x('presence', { type: 'unavailable', from: session.jid.full });
    if (stanza) unavailable.children = stanza.children;
    await broadcaster.broadcast(session, unavailable);
    for (const target of session.directedPresence) {
      const jid = Jid.parse(target);
      if (jid.isBare) broadcaster.sendToAccount(unavailable, jid.bare);
      else if (ctx.router.mayDeliver(unavailable, jid.bare))
        ctx.sessions.get(jid)?.send(unavailable.withAttrs({ to: jid.full }));
    }
    session.directedPresence.clear();
  }

  function directed(session: Session, stanza: XmlElement, to: Jid): void {
    if (to.domain !== ctx.domain)
      throw new StanzaError('remote-server-not-found', 'federation is off on this server');
    if (to.isDomain) return;
    if (stanza.attrs.type === 'unavailable') session.directedPresence.delete(to.full);
    else session.directedPresence.add(to.full);
    if (to.isBare) broadcaster.sendToAccount(stanza, to.bare);
    else if (ctx.router.mayDeliver(stanza, to.bare)) ctx.sessions.get(to)?.send(stanza);
  }

  async function probe(session: Session, to: Jid | undefined): Promise<void> {
    if (!to || to.domain !== ctx.domain || to.isDomain) return;
    // Only an approved subscriber learns anything from a probe (RFC 6121 §4.3.2, T7).
    if (await rosters.approves(to.bare, session.bare))
      broadcaster.sendCurrentPresence(to.bare, session);
  }

  ctx.hooks.on('session-closed', (session) => {
    const finish = async (): Promise<void> => {
      if (session.available) {
        session.available = false;
        await sendUnavailable(session);
      }
      if (ctx.sessions.count(session.bare) === 0) {
        rosters.forget(session.bare);
        const status = session.presence?.getChildText('status') ?? '';
        await ctx.storage.kv.set(
          session.bare,
          LAST_ACTIVITY_KEY,
          JSON.stringify({ time: Date.now(), status }),
        );
      }
    };
    finish().catch((err: unknown) => ctx.log.error({ err }, 'error ending presence'));
  });

  return { broadcaster, subscriptions };
}

function parsePriority(stanza: XmlElement): number {
  const raw = stanza.getChildText('priority');
  const n = raw === undefined ? 0 : Number.parseInt(raw, 10);
  return Number.isFinite(n) ? Math.max(-128, Math.min(127, n)) : 0;
}
