import type { StreamErrorCondition } from '../stanza/errors.ts';
import type { Jid } from '../stanza/jid.ts';
import type { XmlElement } from '../xml/element.ts';

/** How a session reaches its client: implemented by the c2s stream. */
export interface SessionOutput {
  send(el: XmlElement): void;
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

  constructor(
    readonly jid: Jid,
    readonly address: string,
    private readonly output: SessionOutput,
  ) {
    this.bare = jid.bare;
  }

  send(el: XmlElement): void {
    this.output.send(el);
  }

  close(condition?: StreamErrorCondition, text?: string): void {
    this.output.close(condition, text);
  }
}
