import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { Jid } from '../../stanza/jid.ts';
import { NS } from '../../stanza/namespaces.ts';
import type { RosterItem } from '../../storage/ports.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import { emptyItem, itemElement, type RosterService } from './roster-service.ts';

const MAX_NAME = 1024;
const MAX_GROUPS = 64;

/**
 * RFC 6121 §2: roster get (with versioning, §2.6) and set. Removing an item also cancels
 * the subscriptions in both directions, which the presence module carries out.
 */
export function rosterModule(
  ctx: ServerContext,
  rosters: RosterService,
  onRemoved: (owner: string, item: RosterItem) => Promise<void>,
): void {
  // Versioning (§2.6) and subscription pre-approval (§3.4.1, which the presence module honours).
  ctx.hooks.on('stream-features', (features) =>
    features.push(x('ver', { xmlns: NS.rosterVer }), x('sub', { xmlns: NS.preApproval })),
  );

  ctx.router.onAccountIq('get', NS.roster, async (iq, req) => {
    if (req.from.bare !== req.to.bare || !req.session) throw new StanzaError('forbidden');
    req.session.rosterRequested = true;
    const roster = await rosters.list(req.from.bare);
    const asked = iq.elements()[0]!.attrs.ver;
    // The client's copy is current: an empty result, and pushes from now on (RFC 6121 §2.6.3).
    if (asked !== undefined && asked === String(roster.version)) return undefined;
    return x(
      'query',
      { xmlns: NS.roster, ver: String(roster.version) },
      ...roster.items.map(itemElement),
    );
  });

  ctx.router.onAccountIq('set', NS.roster, async (iq, req) => {
    if (req.from.bare !== req.to.bare) throw new StanzaError('forbidden');
    const items = iq.elements()[0]!.getChildren('item');
    if (items.length !== 1)
      throw new StanzaError('bad-request', 'a roster set carries exactly one item');
    const el = items[0]!;
    const contact = parseContact(el);
    const owner = req.from.bare;
    if (el.attrs.subscription === 'remove') {
      const existing = await rosters.item(owner, contact);
      if (!existing) throw new StanzaError('item-not-found');
      await rosters.remove(owner, contact);
      await onRemoved(owner, existing);
      return undefined;
    }
    const existing = (await rosters.item(owner, contact)) ?? emptyItem(contact);
    // Clients set names and groups only; subscription and ask are the server's (RFC 6121 §2.1.2.5).
    const updated: RosterItem = { ...existing, groups: parseGroups(el) };
    const name = el.attrs.name;
    if (name !== undefined && name !== '') {
      if (name.length > MAX_NAME) throw new StanzaError('not-acceptable', 'name too long');
      updated.name = name;
    } else {
      delete updated.name;
    }
    await rosters.put(owner, updated);
    return undefined;
  });
}

function parseContact(item: XmlElement): string {
  const raw = item.attrs.jid;
  if (raw === undefined) throw new StanzaError('bad-request', 'the item needs a jid');
  const jid = Jid.tryParse(raw);
  if (!jid) throw new StanzaError('jid-malformed');
  if (!jid.isBare) throw new StanzaError('bad-request', 'roster items are bare JIDs');
  return jid.bare;
}

function parseGroups(item: XmlElement): string[] {
  const groups = item.getChildren('group').map((g) => g.text());
  if (groups.length > MAX_GROUPS) throw new StanzaError('not-acceptable', 'too many groups');
  if (groups.some((g) => g === '' || g.length > MAX_NAME))
    throw new StanzaError('not-acceptable', 'empty or overlong group name');
  if (new Set(groups).size !== groups.length)
    throw new StanzaError('bad-request', 'duplicate group');
  return groups;
}
