import type { Jid } from '../../stanza/jid.ts';
import type { KeyValueStore } from '../../storage/ports.ts';

const KEY = 'blocklist';

/**
 * Each account's blocked JIDs (XEP-0191), persisted in the key-value store and kept in memory
 * while the account has sessions, so the router's synchronous filters can consult them.
 */
export class Blocklists {
  private readonly warm = new Map<string, Set<string>>();
  private readonly loading = new Map<string, Promise<Set<string>>>();

  constructor(private readonly kv: KeyValueStore) {}

  /** The in-memory list of an account with sessions; undefined when not loaded. */
  cached(owner: string): Set<string> | undefined {
    return this.warm.get(owner);
  }

  /** Loads (once) and keeps the list in memory; the caller mutates it and then save()s. */
  load(owner: string): Promise<Set<string>> {
    const cached = this.warm.get(owner);
    if (cached) return Promise.resolve(cached);
    let pending = this.loading.get(owner);
    if (!pending) {
      pending = this.read(owner)
        .then((list) => {
          const existing = this.warm.get(owner) ?? list;
          this.warm.set(owner, existing);
          return existing;
        })
        .finally(() => this.loading.delete(owner));
      this.loading.set(owner, pending);
    }
    return pending;
  }

  /** The list without caching it (for accounts that are offline). */
  async peek(owner: string): Promise<Set<string>> {
    return this.warm.get(owner) ?? (await this.read(owner));
  }

  save(owner: string, list: Set<string>): Promise<void> {
    if (list.size === 0) return this.kv.delete(owner, KEY);
    return this.kv.set(owner, KEY, JSON.stringify([...list]));
  }

  forget(owner: string): void {
    this.warm.delete(owner);
  }

  private async read(owner: string): Promise<Set<string>> {
    const raw = await this.kv.get(owner, KEY);
    if (raw === undefined) return new Set();
    const parsed: unknown = JSON.parse(raw);
    return new Set(Array.isArray(parsed) ? parsed.filter((j) => typeof j === 'string') : []);
  }
}

/**
 * Does a blocklist item match `jid`? XEP-0191 §3.3 uses the XEP-0016 JID rules: the full
 * JID, the bare JID, the domain with that resource, or the whole domain.
 */
export function listBlocks(list: Set<string> | undefined, jid: Jid): boolean {
  if (list === undefined || list.size === 0) return false;
  return (
    list.has(jid.full) ||
    list.has(jid.bare) ||
    list.has(jid.domain) ||
    (jid.resource !== '' && list.has(`${jid.domain}/${jid.resource}`))
  );
}
