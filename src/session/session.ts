import type { StreamErrorCondition } from '../stanza/errors.ts';
import type { Jid } from '../stanza/jid.ts';
import type { XmlElement } from '../xml/element.ts';
import { ClientStateGate } from './client-state.ts';

/**
 * Told what became of a stanza: the client confirmed it (XEP-0198 ack, or at once when the
 * stream has no acks), or the session ended before it did. The sender keeps its own durable
 * copy until then (offline storage does), so an unconfirmed stanza is not stored again.
 */
export interface DeliveryReceipt {
  delivered(): void;
  undelivered(): void;
}

/** How a session reaches its client: the c2s stream, or stream management on top of it. */
export interface SessionOutput {
  /** The client acks what it received (XEP-0198), so receipts wait for its ack. */
  readonly confirmsDelivery?: boolean;
  send(el: XmlElement, receipt?: DeliveryReceipt): void;
  close(condition?: StreamErrorCondition, text?: string): void;
}

/** A bound client resource (RFC 6120 §7) and its presence state (RFC 6121 §4). */
export class Session {
  readonly bare: string;
  readonly createdAt = Date.now();
  /** Sent initial presence and has not gone unavailable since. */
  available = false;
  priority = 0;
  /** The last broadcast presence (without to/from stamping applied per recipient). */
  presence: XmlElement | undefined;
  /** Asked for the roster, so it gets roster pushes (RFC 6121 §2.1.6 "interested resource"). */
  rosterRequested = false;
  /** Full JIDs this session sent directed presence to (they get its unavailable). */
  readonly directedPresence = new Set<string>();
  /** XEP-0352: holds non-urgent stanzas while the client says it is inactive. */
  readonly clientState = new ClientStateGate((el, receipt) => this.output.send(el, receipt));

  constructor(
    readonly jid: Jid,
    readonly address: string,
    private output: SessionOutput,
  ) {
    this.bare = jid.bare;
  }

  send(el: XmlElement, receipt?: DeliveryReceipt): void {
    this.clientState.send(el, receipt);
  }

  get confirmsDelivery(): boolean {
    return this.output.confirmsDelivery === true;
  }

  /** Stream management (XEP-0198) takes the output over and carries it across connections. */
  redirect(output: SessionOutput): void {
    this.output = output;
  }

  close(condition?: StreamErrorCondition, text?: string): void {
    this.output.close(condition, text);
  }
}
