import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import type { RosterItem, Subscription } from '../../storage/ports.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import { emptyItem, type RosterService } from '../roster/roster-service.ts';
import type { PresenceBroadcaster } from './broadcast.ts';

export type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';

const addTo = (s: Subscription): Subscription => (s === 'none' ? 'to' : s === 'from' ? 'both' : s);
const addFrom = (s: Subscription): Subscription =>
  s === 'none' ? 'from' : s === 'to' ? 'both' : s;
const dropTo = (s: Subscription): Subscription => (s === 'to' ? 'none' : s === 'both' ? 'from' : s);
const dropFrom = (s: Subscription): Subscription =>
  s === 'from' ? 'none' : s === 'both' ? 'to' : s;
const hasTo = (s: Subscription): boolean => s === 'to' || s === 'both';
const hasFrom = (s: Subscription): boolean => s === 'from' || s === 'both';

/**
 * The presence subscription state machine of RFC 6121 §3 and Appendix A, for both the
 * user's side (outbound) and the contact's side (inbound). Both accounts are local: with
 * federation off there is no other kind of contact.
 */
export class Subscriptions {
  constructor(
    private readonly ctx: ServerContext,
    private readonly rosters: RosterService,
    private readonly presence: PresenceBroadcaster,
  ) {}

  /** A subscription stanza from `user`'s client to `contact` (both bare JIDs). */
  async outbound(
    type: SubscriptionType,
    user: string,
    contact: string,
    stanza: XmlElement,
  ): Promise<void> {
    if (contact === user) throw new StanzaError('bad-request', 'you cannot subscribe to yourself');
    const item = await this.rosters.item(user, contact);
    switch (type) {
      case 'subscribe': {
        const current = item ?? emptyItem(contact);
        if (!hasTo(current.subscription) && !current.askOut) {
          await this.rosters.put(user, { ...current, askOut: true });
        }
        return this.inboundSubscribe(contact, user, statusOf(stanza));
      }
      case 'subscribed': {
        const pending = await this.rosters.pendingIn(user);
        if (contact in pending) {
          await this.rosters.setPendingIn(user, contact, undefined);
          const current = item ?? emptyItem(contact);
          await this.rosters.put(user, {
            ...current,
            subscription: addFrom(current.subscription),
            askIn: false,
          });
          await this.inboundSubscribed(contact, user);
          this.presence.shareCurrentPresence(user, contact);
          this.ctx.hooks.emit('subscription-approved', user, contact);
        } else if (!item || !hasFrom(item.subscription)) {
          // Pre-approval (RFC 6121 §3.4): remembered, not routed.
          await this.rosters.put(user, { ...(item ?? emptyItem(contact)), preApproved: true });
        }
        return;
      }
      case 'unsubscribe': {
        if (item && (hasTo(item.subscription) || item.askOut)) {
          await this.rosters.put(user, {
            ...item,
            subscription: dropTo(item.subscription),
            askOut: false,
          });
        }
        return this.inboundUnsubscribe(contact, user);
      }
      case 'unsubscribed': {
        await this.rosters.setPendingIn(user, contact, undefined);
        const wasVisible = item !== undefined && hasFrom(item.subscription);
        if (item && (hasFrom(item.subscription) || item.preApproved)) {
          await this.rosters.put(user, {
            ...item,
            subscription: dropFrom(item.subscription),
            preApproved: false,
            askIn: false,
          });
        }
        await this.inboundUnsubscribed(contact, user);
        if (wasVisible) this.presence.sendUnavailable(user, contact);
        return;
      }
    }
  }

  /** After the user removed `item` from its roster: cancel both directions (RFC 6121 §2.5.2). */
  async afterRosterRemove(user: string, item: RosterItem): Promise<void> {
    await this.rosters.setPendingIn(user, item.contact, undefined);
    if (hasTo(item.subscription) || item.askOut) await this.inboundUnsubscribe(item.contact, user);
    if (hasFrom(item.subscription)) {
      await this.inboundUnsubscribed(item.contact, user);
      this.presence.sendUnavailable(user, item.contact);
    }
  }

  private async inboundSubscribe(contact: string, user: string, status: string): Promise<void> {
    if (!(await this.ctx.router.accountExists(contact))) {
      // RFC 6121 §3.1.3: no such contact, so the request is answered with unsubscribed.
      return this.inboundUnsubscribed(user, contact);
    }
    const item = await this.rosters.item(contact, user);
    if (item && hasFrom(item.subscription)) return this.inboundSubscribed(user, contact);
    if (item?.preApproved) {
      await this.rosters.put(contact, {
        ...item,
        subscription: addFrom(item.subscription),
        preApproved: false,
      });
      await this.inboundSubscribed(user, contact);
      this.presence.shareCurrentPresence(contact, user);
      this.ctx.hooks.emit('subscription-approved', contact, user);
      return;
    }
    await this.rosters.setPendingIn(contact, user, status);
    this.deliver(contact, subscriptionStanza('subscribe', user, contact, status));
  }

  private async inboundSubscribed(user: string, contact: string): Promise<void> {
    const item = await this.rosters.item(user, contact);
    if (!item?.askOut) return; // not requested: ignored (RFC 6121 §3.1.6)
    await this.rosters.put(user, {
      ...item,
      subscription: addTo(item.subscription),
      askOut: false,
    });
    this.deliver(user, subscriptionStanza('subscribed', contact, user));
  }

  private async inboundUnsubscribe(contact: string, user: string): Promise<void> {
    await this.rosters.setPendingIn(contact, user, undefined);
    const item = await this.rosters.item(contact, user);
    if (!item || !hasFrom(item.subscription)) return;
    await this.rosters.put(contact, { ...item, subscription: dropFrom(item.subscription) });
    this.deliver(contact, subscriptionStanza('unsubscribe', user, contact));
    this.presence.sendUnavailable(contact, user);
  }

  private async inboundUnsubscribed(user: string, contact: string): Promise<void> {
    const item = await this.rosters.item(user, contact);
    if (!item || (!item.askOut && !hasTo(item.subscription))) return;
    await this.rosters.put(user, {
      ...item,
      subscription: dropTo(item.subscription),
      askOut: false,
    });
    this.deliver(user, subscriptionStanza('unsubscribed', contact, user));
  }

  private deliver(to: string, stanza: XmlElement): void {
    this.presence.sendToAccount(stanza, to);
  }

  /** Re-sends unanswered subscription requests to a session that just came online. */
  async redeliverPending(user: string, deliverTo: (stanza: XmlElement) => void): Promise<void> {
    const pending = await this.rosters.pendingIn(user);
    for (const [contact, status] of Object.entries(pending)) {
      deliverTo(subscriptionStanza('subscribe', contact, user, status));
    }
  }
}

function statusOf(stanza: XmlElement): string {
  return (stanza.getChildText('status') ?? '').slice(0, 1024);
}

function subscriptionStanza(
  type: SubscriptionType,
  from: string,
  to: string,
  status?: string,
): XmlElement {
  return x('presence', { type, from, to }, status ? x('status', {}, status) : undefined);
}
