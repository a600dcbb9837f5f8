import type { XmlElement } from '../xml/element.ts';
import type { DeliveryReceipt } from './session.ts';

/** Most stanzas held for an inactive client; one more flushes them all (memory bound). */
export const MAX_HELD = 200;

const NS_CHAT_STATES = 'http://jabber.org/protocol/chatstates';
const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
const SUBSCRIPTION = new Set(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'error']);

interface Held {
  el: XmlElement;
  receipt: DeliveryReceipt | undefined;
  /** Presence from one sender: a newer one replaces it. */
  presenceFrom?: string;
}

type Write = (el: XmlElement, receipt?: DeliveryReceipt) => void;

/**
 * XEP-0352 client state indication, on a session's way out: while the client says it is
 * inactive, presence updates (only the latest per sender) and non-urgent messages wait; an
 * urgent stanza, or the client becoming active, sends them first, in order.
 */
export class ClientStateGate {
  private inactive = false;
  private readonly held: Held[] = [];

  constructor(private readonly write: Write) {}

  get isInactive(): boolean {
    return this.inactive;
  }

  setInactive(inactive: boolean): void {
    this.inactive = inactive;
    if (!inactive) this.flush();
  }

  send(el: XmlElement, receipt?: DeliveryReceipt): void {
    if (!this.inactive || isUrgent(el)) {
      this.flush();
      this.write(el, receipt);
      return;
    }
    const presenceFrom = el.name === 'presence' ? (el.attrs.from ?? '') : undefined;
    if (presenceFrom !== undefined) {
      const i = this.held.findIndex((h) => h.presenceFrom === presenceFrom);
      if (i >= 0) this.held.splice(i, 1)[0]!.receipt?.delivered();
    }
    this.held.push({ el, receipt, ...(presenceFrom === undefined ? {} : { presenceFrom }) });
    if (this.held.length > MAX_HELD) this.flush();
  }

  flush(): void {
    for (const h of this.held.splice(0)) this.write(h.el, h.receipt);
  }

  /** The session ended: what was held never reaches the client. */
  drop(): void {
    for (const h of this.held.splice(0)) h.receipt?.undelivered();
  }
}

/** IQs, subscription requests and messages with a body (or anything unknown) go out at once. */
function isUrgent(el: XmlElement): boolean {
  if (el.name === 'presence') return SUBSCRIPTION.has(el.attrs.type ?? '');
  if (el.name !== 'message') return true;
  if (el.attrs.type === 'error' || hasBody(el)) return true;
  const payloads = el.elements();
  return !payloads.every(
    (p) =>
      p.attrs.xmlns === NS_CHAT_STATES ||
      p.attrs.xmlns === NS_PUBSUB_EVENT ||
      isCarbonWithoutBody(p),
  );
}

function hasBody(msg: XmlElement): boolean {
  return msg.getChild('body') !== undefined;
}

/** A carbon copy is as urgent as the message it carries. */
function isCarbonWithoutBody(payload: XmlElement): boolean {
  if (payload.attrs.xmlns !== 'urn:xmpp:carbons:2') return false;
  const inner = payload.getChild('forwarded')?.getChild('message');
  return inner !== undefined && !hasBody(inner) && !isUrgent(inner);
}
