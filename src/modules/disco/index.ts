import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { NS } from '../../stanza/namespaces.ts';
import { type XmlElement, x } from '../../xml/element.ts';

/** What a module adds to an account's bare-JID disco answers (e.g. the PEP service). */
export interface AccountDiscoProvider {
  identities: XmlElement[];
  features: string[];
  /** Items `viewer` may see on `owner`'s bare JID. */
  items(owner: string, viewer: string): Promise<XmlElement[]>;
  /** Identities and features of a node, or undefined when `viewer` may not know it. */
  nodeInfo(owner: string, viewer: string, node: string): Promise<XmlElement[] | undefined>;
}

/**
 * XEP-0030: what the server supports, and the account identity of local users.
 * `extensions` adds identities and XEP-0128 forms to the server's info (e.g. upload).
 */
export function discoModule(
  ctx: ServerContext,
  serverFeatures: () => string[],
  accountProviders: readonly AccountDiscoProvider[] = [],
  extensions: () => XmlElement[] = () => [],
): void {
  ctx.router.onHostIq('get', NS.discoInfo, (iq) => {
    if (iq.elements()[0]!.attrs.node !== undefined) throw new StanzaError('item-not-found');
    const extra = extensions();
    return x(
      'query',
      { xmlns: NS.discoInfo },
      x('identity', { category: 'server', type: 'im', name: 'Rampart' }),
      ...extra.filter((e) => e.name === 'identity'),
      ...[...new Set(serverFeatures())].sort().map((v) => x('feature', { var: v })),
      ...extra.filter((e) => e.name !== 'identity'),
    );
  });
  ctx.router.onHostIq('get', NS.discoItems, () => x('query', { xmlns: NS.discoItems }));

  // An account's bare JID answers for the account; only the owner and approved contacts ask.
  ctx.router.onAccountIq('get', NS.discoInfo, async (iq, req) => {
    if (!(await ctx.router.presenceAuthority(req.to.bare, req.from.bare)))
      throw new StanzaError('service-unavailable');
    const node = iq.elements()[0]!.attrs.node;
    if (node !== undefined) {
      for (const p of accountProviders) {
        const info = await p.nodeInfo(req.to.bare, req.from.bare, node);
        if (info) return x('query', { xmlns: NS.discoInfo, node }, ...info);
      }
      throw new StanzaError('item-not-found');
    }
    const features = [NS.discoInfo, NS.discoItems, ...accountProviders.flatMap((p) => p.features)];
    return x(
      'query',
      { xmlns: NS.discoInfo },
      x('identity', { category: 'account', type: 'registered' }),
      ...accountProviders.flatMap((p) => p.identities),
      ...[...new Set(features)].sort().map((v) => x('feature', { var: v })),
    );
  });
  ctx.router.onAccountIq('get', NS.discoItems, async (iq, req) => {
    if (!(await ctx.router.presenceAuthority(req.to.bare, req.from.bare)))
      throw new StanzaError('service-unavailable');
    if (iq.elements()[0]!.attrs.node !== undefined) throw new StanzaError('item-not-found');
    const items: XmlElement[] = [];
    for (const p of accountProviders) items.push(...(await p.items(req.to.bare, req.from.bare)));
    return x('query', { xmlns: NS.discoItems }, ...items);
  });
}
