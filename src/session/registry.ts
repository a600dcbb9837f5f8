import type { Jid } from '../stanza/jid.ts';
import type { Session } from './session.ts';

/** Bound sessions by bare JID and resource. */
export class SessionRegistry {
  private readonly byBare = new Map<string, Map<string, Session>>();
  private total = 0;

  /** Adds the session; returns the session it displaces (same full JID), if any. */
  add(session: Session): Session | undefined {
    let resources = this.byBare.get(session.bare);
    if (!resources) {
      resources = new Map();
      this.byBare.set(session.bare, resources);
    }
    const old = resources.get(session.jid.resource);
    resources.set(session.jid.resource, session);
    if (!old) this.total++;
    return old;
  }

  remove(session: Session): void {
    const resources = this.byBare.get(session.bare);
    if (resources?.get(session.jid.resource) !== session) return;
    resources.delete(session.jid.resource);
    this.total--;
    if (resources.size === 0) this.byBare.delete(session.bare);
  }

  get(jid: Jid): Session | undefined {
    return this.byBare.get(jid.bare)?.get(jid.resource);
  }

  /** All bound sessions of an account. */
  of(bare: string): Session[] {
    const resources = this.byBare.get(bare);
    return resources ? [...resources.values()] : [];
  }

  /** Sessions that announced availability (RFC 6121 "available resources"). */
  available(bare: string): Session[] {
    return this.of(bare).filter((s) => s.available);
  }

  count(bare: string): number {
    return this.byBare.get(bare)?.size ?? 0;
  }

  get size(): number {
    return this.total;
  }

  *all(): IterableIterator<Session> {
    for (const resources of this.byBare.values()) yield* resources.values();
  }
}
