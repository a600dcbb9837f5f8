import type { ServerContext } from '../../server/context.ts';
import type { Session } from '../../session/session.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import type { RosterService } from '../roster/roster-service.ts';

/**
 * Who sees a resource's presence (RFC 6121 §4): contacts the owner approved (subscription
 * from/both), the owner's own resources, and those it sent directed presence to. Nobody else (T7).
 */
export class PresenceBroadcaster {
  constructor(
    private readonly ctx: ServerContext,
    private readonly rosters: RosterService,
  ) {}

  /** Sends `stanza` (stamped with the session's full JID) to one account's available resources. */
  sendToAccount(stanza: XmlElement, to: string): void {
    // Inbound filters (blocking, XEP-0191) silently drop presence they refuse.
    if (!this.ctx.router.mayDeliver(stanza, to)) return;
    for (const s of this.ctx.sessions.available(to)) s.send(copyTo(stanza, to));
  }

  /** Broadcasts a session's presence to approved contacts and the owner's resources. */
  async broadcast(session: Session, stanza: XmlElement): Promise<void> {
    const { items } = await this.rosters.list(session.bare);
    for (const item of items) {
      if (item.subscription === 'from' || item.subscription === 'both')
        this.sendToAccount(stanza, item.contact);
    }
    for (const own of this.ctx.sessions.available(session.bare))
      own.send(copyTo(stanza, own.jid.full));
  }

  /**
   * What a presence probe would learn (RFC 6121 §4.3): the current presence of each
   * available resource of `owner`, sent to `viewer`'s session. The caller checks approval.
   */
  sendCurrentPresence(owner: string, viewer: Session): void {
    for (const s of this.ctx.sessions.available(owner)) {
      if (s.presence && s !== viewer && this.ctx.router.mayDeliver(s.presence, viewer.bare))
        viewer.send(copyTo(s.presence, viewer.jid.full));
    }
  }

  /** Sends each available resource's presence of `owner` to every available resource of `viewer`. */
  shareCurrentPresence(owner: string, viewer: string): void {
    for (const v of this.ctx.sessions.available(viewer)) this.sendCurrentPresence(owner, v);
  }

  /** Tells `viewer`'s resources that `owner`'s resources are gone for them (subscription ended). */
  sendUnavailable(owner: string, viewer: string): void {
    for (const s of this.ctx.sessions.available(owner)) {
      this.sendToAccount(x('presence', { type: 'unavailable', from: s.jid.full }), viewer);
    }
  }
}

function copyTo(stanza: XmlElement, to: string): XmlElement {
  return stanza.withAttrs({ to });
}
