import type { Session } from '../session/session.ts';
import type { XmlElement } from '../xml/element.ts';

/** Named extension points and their payloads; modules register handlers on them. */
export interface HookMap {
  /** A resource was bound; the session can receive stanzas. */
  'session-bound': (session: Session) => void;
  /** A bound session ended (after its unavailable presence went out). */
  'session-closed': (session: Session) => void;
  /** The session sent its first available presence (RFC 6121 §4.2). */
  'initial-presence': (session: Session) => void;
  /** `owner` now has `contact` in its roster (added or changed, by a client or the CLI). */
  'roster-item-set': (owner: string, contact: string) => void;
  /** `owner` approved `viewer`'s subscription: viewer now sees owner's presence (and PEP). */
  'subscription-approved': (owner: string, viewer: string) => void;
  /** Extra <stream:features/> children for an authenticated stream. */
  'stream-features': (features: XmlElement[]) => void;
}

type Entry<K extends keyof HookMap> = { fn: HookMap[K]; priority: number };

/** Handles a top-level element that is not a stanza (a "nonza", e.g. XEP-0352 <active/>). */
export type NonzaHandler = (el: XmlElement, session: Session) => void;

/** Loads per-account state before a session of that account goes live (async, awaited). */
export type SessionPreparer = (account: string) => Promise<void>;

/**
 * Handlers run in priority order (higher first). Handlers must not throw; an error in one
 * is logged by the caller's try/catch and does not stop the others.
 */
export class Hooks {
  private readonly handlers: { [K in keyof HookMap]?: Entry<K>[] } = {};

  on<K extends keyof HookMap>(name: K, fn: HookMap[K], priority = 0): void {
    const list = (this.handlers[name] ?? []) as Entry<K>[];
    this.handlers[name] = list as (typeof this.handlers)[K];
    list.push({ fn, priority });
    list.sort((a, b) => b.priority - a.priority);
  }

  private readonly preparers: SessionPreparer[] = [];
  private readonly nonzas = new Map<string, NonzaHandler>();

  /** Claims the top-level elements of namespace `ns` on established streams. */
  onNonza(ns: string, fn: NonzaHandler): void {
    this.nonzas.set(ns, fn);
  }

  /** Hands `el` to the module that claimed its namespace; false when none did. */
  nonza(el: XmlElement, session: Session): boolean {
    const fn = this.nonzas.get(el.xmlns ?? '');
    if (!fn) return false;
    fn(el, session);
    return true;
  }

  /** Runs before a bound session becomes reachable; binding waits for every preparer. */
  onPrepare(fn: SessionPreparer): void {
    this.preparers.push(fn);
  }

  async prepare(account: string): Promise<void> {
    await Promise.all(this.preparers.map((fn) => fn(account)));
  }

  emit<K extends keyof HookMap>(name: K, ...args: Parameters<HookMap[K]>): void {
    const list = this.handlers[name] as Entry<K>[] | undefined;
    if (!list) return;
    for (const { fn } of list) (fn as (...a: Parameters<HookMap[K]>) => void)(...args);
  }
}
