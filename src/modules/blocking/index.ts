import { randomUUID } from 'node:crypto';
import type { ServerContext } from '../../server/context.ts';
import type { Session } from '../../session/session.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { Jid } from '../../stanza/jid.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import type { PresenceBroadcaster } from '../presence/broadcast.ts';
import { Blocklists, listBlocks } from './blocklists.ts';

export const NS_BLOCKING = 'urn:xmpp:blocking';
export const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';

/** Most JIDs one account may block; bounds memory held per online account. */
export const MAX_BLOCKED = 1000;

/**
 * XEP-0191 blocking command: the blocklist protocol, and its enforcement through the
 * router's inbound and outbound filters. A blocked entity gets nothing from the user, not even
 * presence (T7), and what it sends is refused the way an unavailable account would refuse it.
 * Register after the offline module: it also guards offline storage.
 */
export function blockingModule(ctx: ServerContext, presence: PresenceBroadcaster): BlockingModule {
  const lists = new Blocklists(ctx.storage.kv);
  /** Sessions that asked for the blocklist: they receive pushes (XEP-0191 §3.3). */
  const interested = new Set<Session>();
  const isServer = (jid: Jid) => jid.isDomain && jid.domain === ctx.domain;

  ctx.router.onAccountIq('get', NS_BLOCKING, async (iq, req) => {
    if (req.from.bare !== req.to.bare) throw new StanzaError('forbidden');
    if (iq.elements()[0]!.name !== 'blocklist') throw new StanzaError('bad-request');
    const list = await lists.load(req.to.bare);
    if (req.session) interested.add(req.session);
    return x('blocklist', { xmlns: NS_BLOCKING }, ...[...list].map((jid) => x('item', { jid })));
  });

  ctx.router.onAccountIq('set', NS_BLOCKING, async (iq, req) => {
    if (req.from.bare !== req.to.bare) throw new StanzaError('forbidden');
    const owner = req.to.bare;
    const command = iq.elements()[0]!;
    const jids = itemsOf(command);
    const list = await lists.load(owner);
    if (command.name === 'block') {
      if (jids.length === 0) throw new StanzaError('bad-request', 'block at least one JID');
      const added = jids.filter((j) => !list.has(j.full));
      if (list.size + added.length > MAX_BLOCKED)
        throw new StanzaError('not-acceptable', `at most ${MAX_BLOCKED} JIDs can be blocked`);
      for (const j of added) list.add(j.full);
      await lists.save(owner, list);
      push(owner, command);
      for (const j of added) await goUnavailableFor(owner, j);
      return undefined;
    }
    if (command.name === 'unblock') {
      const removed = jids.length === 0 ? [...list].map((j) => Jid.parse(j)) : jids;
      for (const j of removed) list.delete(j.full);
      await lists.save(owner, list);
      push(owner, command);
      // Contacts who may see the user's presence get it again at once.
      for (const j of removed) {
        if (!j.isBare || j.isDomain) continue;
        if (await ctx.router.presenceAuthority(owner, j.bare))
          presence.shareCurrentPresence(owner, j.bare);
      }
      return undefined;
    }
    throw new StanzaError('bad-request', 'expected <block/> or <unblock/>');
  });

  /** Tells every interested resource of `owner` about a change, with the request's items. */
  function push(owner: string, command: XmlElement): void {
    const payload = x(command.name, { xmlns: NS_BLOCKING }, ...command.getChildren('item'));
    for (const s of ctx.sessions.of(owner)) {
      if (!interested.has(s)) continue;
      s.send(x('iq', { type: 'set', id: `push-${randomUUID()}`, to: s.jid.full }, payload));
    }
  }

  /**
   * The newly blocked entity sees the user go offline (XEP-0191 §3.3), if it could see the
   * user's presence at all. Sent directly: the inbound filter would now drop it.
   */
  async function goUnavailableFor(owner: string, blocked: Jid): Promise<void> {
    if (blocked.isDomain || blocked.domain !== ctx.domain) return;
    const own = ctx.sessions.available(owner);
    if (own.length === 0) return;
    const approved = await ctx.router.presenceAuthority(owner, blocked.bare);
    for (const target of ctx.sessions.available(blocked.bare)) {
      if (!blocked.isBare && target.jid.full !== blocked.full) continue;
      for (const s of own) {
        const sawIt =
          approved ||
          s.directedPresence.has(target.jid.full) ||
          s.directedPresence.has(target.bare);
        if (!sawIt) continue;
        target.send(x('presence', { type: 'unavailable', from: s.jid.full, to: target.jid.full }));
      }
    }
  }

  // A blocked entity's stanzas to the user: presence and responses vanish; messages and
  // requests are answered as if nobody were there. The user's presence never reaches it.
  ctx.router.inboundFilters.push((stanza, to) => {
    const from = Jid.tryParse(stanza.attrs.from);
    if (!from || from.bare === to || isServer(from)) return 'continue';
    if (listBlocks(lists.cached(to), from)) {
      const type = stanza.attrs.type;
      if (stanza.name === 'presence') return 'drop';
      if (stanza.name === 'iq' && (type === 'result' || type === 'error')) return 'drop';
      return new StanzaError('service-unavailable');
    }
    if (stanza.name === 'presence') {
      const target = Jid.tryParse(to);
      if (target && listBlocks(lists.cached(from.bare), target)) return 'drop';
    }
    return 'continue';
  });

  // The user's own stanzas to a blocked JID are refused (XEP-0191 §3.4).
  ctx.router.outboundFilters.push((stanza, session) => {
    const list = lists.cached(session.bare);
    if (list === undefined || list.size === 0) return 'continue';
    const to = Jid.tryParse(stanza.attrs.to);
    if (!to || to.bare === session.bare || isServer(to) || !listBlocks(list, to)) return 'continue';
    if (stanza.attrs.type === 'error') return 'drop';
    return new StanzaError(
      'not-acceptable',
      undefined,
      x('blocked', { xmlns: NS_BLOCKING_ERRORS }),
    );
  });

  // The same question before the threat gate inspects or holds a message (T1: a blocked
  // stranger cannot even leave a contact request), also for an offline user.
  ctx.router.inboundChecks.push(async (stanza, to) => {
    const from = Jid.tryParse(stanza.attrs.from);
    if (!from || from.bare === to || isServer(from)) return 'continue';
    const list = lists.cached(to) ?? (await lists.peek(to));
    return listBlocks(list, from) ? new StanzaError('service-unavailable') : 'continue';
  });

  // Messages to an offline user: its list is not in memory, so read it before storing.
  const storeOffline = ctx.router.offline;
  if (storeOffline) {
    ctx.router.offline = async (msg, to) => {
      const from = Jid.tryParse(msg.attrs.from);
      if (from && from.bare !== to.bare && listBlocks(await lists.peek(to.bare), from))
        throw new StanzaError('service-unavailable');
      return storeOffline(msg, to);
    };
  }

  // Loaded before the session is reachable, so the filters never miss the first stanzas.
  ctx.hooks.onPrepare(async (account) => {
    await lists.load(account);
  });
  ctx.hooks.on('session-bound', (session) => {
    // A concurrent session-closed of another resource may have forgotten the list: reload.
    if (!lists.cached(session.bare)) {
      lists.load(session.bare).catch((err: unknown) => ctx.log.error({ err }, 'blocklist load'));
    }
  });
  ctx.hooks.on('session-closed', (session) => {
    interested.delete(session);
    if (ctx.sessions.count(session.bare) === 0) lists.forget(session.bare);
  });

  return {
    blocks: async (owner, other) => listBlocks(await lists.peek(owner), Jid.parse(other)),
  };
}

export interface BlockingModule {
  /** Does `owner`'s blocklist match `other`? Reads it from storage when `owner` is offline. */
  blocks(owner: string, other: string): Promise<boolean>;
}

/** The prepared JIDs of <item jid=''/> children; a malformed one refuses the whole request. */
function itemsOf(command: XmlElement): Jid[] {
  const out: Jid[] = [];
  for (const item of command.getChildren('item')) {
    const jid = Jid.tryParse(item.attrs.jid);
    if (!jid) throw new StanzaError('jid-malformed', 'an item has no valid jid');
    out.push(jid);
  }
  return out;
}
