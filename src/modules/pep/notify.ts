import { randomUUID } from 'node:crypto';
import type { ServerContext } from '../../server/context.ts';
import type { Session } from '../../session/session.ts';
import type { PubsubNodeConfig } from '../../storage/ports.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import type { BlockingModule } from '../blocking/index.ts';
import type { CapsModule } from '../caps/index.ts';
import type { RosterService } from '../roster/roster-service.ts';
import { itemElement, type PepChange, type PepService } from './index.ts';
import { NS_PUBSUB_EVENT } from './node-config.ts';

/**
 * XEP-0163 notifications: an event goes to each available resource that announced
 * `<node>+notify` in its verified capabilities (XEP-0115) and belongs to the owner or to a
 * contact the owner approved (subscription from/both) whom the node's access model admits.
 * Strangers never get one (T7), nor anyone the owner blocks or who blocks the owner.
 * A resource that comes online gets the last item of each such node (XEP-0163 §6.2).
 */
export function pepNotifications(
  ctx: ServerContext,
  pep: PepService,
  caps: CapsModule,
  rosters: RosterService,
  blocking: BlockingModule,
): void {
  const store = ctx.storage.pubsub;
  /** Nodes whose last item a session already got since it came online. */
  const served = new WeakMap<Session, Set<string>>();

  const interested = (s: Session, node: string) => caps.features(s)?.has(`${node}+notify`) === true;

  function eventMessage(owner: string, to: Session, event: XmlElement): XmlElement {
    return x(
      'message',
      { from: owner, to: to.jid.full, type: 'headline', id: randomUUID() },
      x('event', { xmlns: NS_PUBSUB_EVENT }, event),
    );
  }

  /** Neither side blocks the other, and the recipient's inbound filters let it through. */
  async function send(owner: string, session: Session, event: XmlElement): Promise<void> {
    const msg = eventMessage(owner, session, event);
    if (session.bare !== owner) {
      if (await blocking.blocks(owner, session.bare)) return;
      if (await blocking.blocks(session.bare, owner)) return;
      if (!ctx.router.mayDeliver(msg, session.bare)) return;
    }
    if (session.available) session.send(msg);
  }

  /** Accounts that may be notified of `owner`'s node: the owner and approved contacts. */
  async function audience(owner: string, config: PubsubNodeConfig): Promise<string[]> {
    if (config.accessModel === 'whitelist') return [owner];
    const { items } = await rosters.list(owner);
    const approved = items
      .filter((i) => i.subscription === 'from' || i.subscription === 'both')
      .map((i) => i.contact);
    return [owner, ...approved];
  }

  function eventFor(node: string, change: PepChange): XmlElement {
    if (change.kind === 'deleted') return x('delete', { node });
    if (change.kind === 'retracted') return x('items', { node }, x('retract', { id: change.id }));
    return x('items', { node }, itemElement(change.item));
  }

  pep.onChange((owner, node, config, change) => {
    const notify = async () => {
      const event = eventFor(node, change);
      for (const account of await audience(owner, config)) {
        if (!(await pep.mayAccess(owner, account, config))) continue;
        for (const s of ctx.sessions.available(account)) {
          if (interested(s, node)) await send(owner, s, event);
        }
      }
    };
    notify().catch((err: unknown) => ctx.log.error({ err }, 'PEP notification'));
  });

  /** The last item of each node `session` is interested in and has not had yet. */
  async function sendLastItems(session: Session, newSubscription: boolean): Promise<void> {
    const done = served.get(session) ?? new Set<string>();
    served.set(session, done);
    const { items } = await rosters.list(session.bare);
    const owners = [
      session.bare,
      ...items
        .filter((i) => i.subscription === 'to' || i.subscription === 'both')
        .map((i) => i.contact),
    ];
    for (const owner of owners) {
      for (const { node, config } of await store.nodes(owner)) {
        const key = `${owner} ${node}`;
        if (done.has(key) || !interested(session, node)) continue;
        const when = config.sendLastPublishedItem;
        if (when === 'never' || (when === 'on_sub' && !newSubscription)) continue;
        if (!(await pep.mayAccess(owner, session.bare, config))) continue;
        done.add(key);
        const [last] = await store.items(owner, node, { max: 1 });
        if (last) await send(owner, session, x('items', { node }, itemElement(last)));
      }
    }
  }

  const serve = (session: Session, newSubscription = false) => {
    if (!session.available) return;
    sendLastItems(session, newSubscription).catch((err: unknown) =>
      ctx.log.error({ err }, 'PEP last items'),
    );
  };
  ctx.hooks.on('initial-presence', (session) => serve(session));
  // A new subscriber gets the last items it may now see (XEP-0060 send_last_published_item).
  ctx.hooks.on('subscription-approved', (_owner, viewer) => {
    for (const s of ctx.sessions.available(viewer)) serve(s, true);
  });
  caps.onChange((session) => serve(session));
  // Going unavailable ends "online": the next initial presence gets the last items again.
  ctx.router.outboundFilters.push((stanza, session) => {
    if (stanza.name === 'presence' && stanza.attrs.type === 'unavailable' && !stanza.attrs.to)
      served.delete(session);
    return 'continue';
  });
}
