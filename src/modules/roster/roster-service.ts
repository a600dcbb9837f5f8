import type { ServerContext } from '../../server/context.ts';
import { NS } from '../../stanza/namespaces.ts';
import type { RosterItem } from '../../storage/ports.ts';
import { type XmlElement, x } from '../../xml/element.ts';

interface CachedRoster {
  version: number;
  items: Map<string, RosterItem>;
}

const PENDING_KEY = 'pending-subscriptions';

/**
 * The server-side roster (RFC 6121 §2), the source of truth for who may see whose presence
 * (T7). Rosters of online accounts are cached; every change is written to storage first and
 * then pushed to the owner's interested resources.
 */
export class RosterService {
  private readonly cache = new Map<string, Promise<CachedRoster>>();

  constructor(private readonly ctx: ServerContext) {}

  private load(owner: string): Promise<CachedRoster> {
    let entry = this.cache.get(owner);
    if (!entry) {
      entry = this.ctx.storage.roster.get(owner).then((r) => ({
        version: r.version,
        items: new Map(r.items.map((i) => [i.contact, i])),
      }));
      // Only online accounts stay cached; an offline account's roster is read each time.
      if (this.ctx.sessions.count(owner) > 0) this.cache.set(owner, entry);
      entry.catch(() => this.cache.delete(owner));
    }
    return entry;
  }

  /** Forgets a cached roster (account went offline, or another process changed it). */
  forget(owner: string): void {
    this.cache.delete(owner);
  }

  async list(owner: string): Promise<{ version: number; items: RosterItem[] }> {
    const r = await this.load(owner);
    return { version: r.version, items: [...r.items.values()] };
  }

  async item(owner: string, contact: string): Promise<RosterItem | undefined> {
    return (await this.load(owner)).items.get(contact);
  }

  /** Does `owner` let `viewer` see its presence (subscription from or both)? */
  async approves(owner: string, viewer: string): Promise<boolean> {
    if (owner === viewer) return true;
    const item = await this.item(owner, viewer);
    return item?.subscription === 'from' || item?.subscription === 'both';
  }

  async put(owner: string, item: RosterItem): Promise<void> {
    const version = await this.ctx.storage.roster.put(owner, item);
    const cached = this.cache.get(owner);
    if (cached) {
      const r = await cached;
      r.items.set(item.contact, item);
      r.version = version;
    }
    this.push(owner, itemElement(item), version);
    this.ctx.hooks.emit('roster-item-set', owner, item.contact);
  }

  async remove(owner: string, contact: string): Promise<boolean> {
    const version = await this.ctx.storage.roster.remove(owner, contact);
    if (version === undefined) return false;
    const cached = this.cache.get(owner);
    if (cached) {
      const r = await cached;
      r.items.delete(contact);
      r.version = version;
    }
    this.push(owner, x('item', { jid: contact, subscription: 'remove' }), version);
    return true;
  }

  /** Re-reads one item from storage (changed by the CLI) and pushes it. */
  async refresh(owner: string, contact: string): Promise<void> {
    this.forget(owner);
    const r = await this.load(owner);
    const item = r.items.get(contact);
    this.push(
      owner,
      item ? itemElement(item) : x('item', { jid: contact, subscription: 'remove' }),
      r.version,
    );
    if (item) this.ctx.hooks.emit('roster-item-set', owner, contact);
  }

  /** RFC 6121 §2.1.6: a roster push to every resource that asked for the roster. */
  private push(owner: string, item: XmlElement, version: number): void {
    for (const s of this.ctx.sessions.of(owner)) {
      if (!s.rosterRequested) continue;
      s.send(
        x(
          'iq',
          {
            type: 'set',
            id: `push-${version}-${Math.random().toString(36).slice(2, 8)}`,
            to: s.jid.full,
          },
          x('query', { xmlns: NS.roster, ver: String(version) }, item),
        ),
      );
    }
  }

  /** Inbound subscription requests awaiting the user's answer, with their status texts. */
  async pendingIn(owner: string): Promise<Record<string, string>> {
    const raw = await this.ctx.storage.kv.get(owner, PENDING_KEY);
    return raw ? (JSON.parse(raw) as Record<string, string>) : {};
  }

  async setPendingIn(owner: string, contact: string, status: string | undefined): Promise<void> {
    const pending = await this.pendingIn(owner);
    if (status === undefined) {
      if (!(contact in pending)) return;
      delete pending[contact];
    } else {
      pending[contact] = status;
    }
    await this.ctx.storage.kv.set(owner, PENDING_KEY, JSON.stringify(pending));
  }
}

export function itemElement(item: RosterItem): XmlElement {
  return x(
    'item',
    {
      jid: item.contact,
      name: item.name,
      subscription: item.subscription,
      ask: item.askOut ? 'subscribe' : undefined,
      approved: item.preApproved ? 'true' : undefined,
    },
    ...item.groups.map((g) => x('group', {}, g)),
  );
}

export function emptyItem(contact: string): RosterItem {
  return {
    contact,
    subscription: 'none',
    askOut: false,
    askIn: false,
    preApproved: false,
    groups: [],
  };
}
