import type { ServerContext } from '../../server/context.ts';
import type { Session } from '../../session/session.ts';
import { NS } from '../../stanza/namespaces.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import { capsHashMatches, isSupportedCapsHash } from './verification.ts';

export const NS_CAPS = 'http://jabber.org/protocol/caps';

/** Verified feature sets kept, by hash and ver; the oldest is dropped beyond this. */
export const MAX_CAPS_CACHE = 1000;
/** A disco#info answer with more features than this is not cached (memory bound). */
const MAX_FEATURES = 500;

export interface CapsModule {
  /** The verified features of a session's client, once known. */
  features(session: Session): ReadonlySet<string> | undefined;
  /** Called when a session's verified features become known or change. */
  onChange(listener: (session: Session) => void): void;
}

/**
 * XEP-0115 entity capabilities of local clients: the `ver` in their presence is checked against
 * the disco#info answer it stands for before anything is cached under it, so one client cannot
 * poison what the server believes about another's features (and so where its PEP notifications
 * go). The cache is bounded; a session whose hash does not verify has no known features.
 */
export function capsModule(ctx: ServerContext): CapsModule {
  const cache = new Map<string, ReadonlySet<string>>();
  const current = new WeakMap<Session, { key: string; features?: ReadonlySet<string> }>();
  const listeners: ((session: Session) => void)[] = [];

  function remember(key: string, features: ReadonlySet<string>): void {
    cache.delete(key);
    cache.set(key, features);
    if (cache.size > MAX_CAPS_CACHE) cache.delete(cache.keys().next().value!);
  }

  function apply(session: Session, key: string, features: ReadonlySet<string> | undefined): void {
    const state = current.get(session);
    if (!features || state?.key !== key) return;
    state.features = features;
    for (const l of listeners) l(session);
  }

  /** Asks the client what `ver` stands for; undefined when the answer does not verify. */
  async function learn(
    session: Session,
    c: XmlElement,
    key: string,
  ): Promise<ReadonlySet<string> | undefined> {
    const { hash, node, ver } = c.attrs as { hash: string; node: string; ver: string };
    const reply = await ctx.router.askClient(
      session,
      x('query', { xmlns: NS.discoInfo, node: `${node}#${ver}` }),
    );
    const query =
      reply?.attrs.type === 'result' ? reply.getChild('query', NS.discoInfo) : undefined;
    if (!query) return undefined;
    if (!capsHashMatches(hash, ver, query)) {
      ctx.events.record({
        threat: 'T4',
        rule: 'caps.hash-mismatch',
        actor: session.jid.full,
        address: session.address,
        verdict: 'refuse',
        evidence: { hash, node: node.slice(0, 200), ver: ver.slice(0, 200) },
      });
      return undefined;
    }
    const features = new Set(query.getChildren('feature').map((f) => f.attrs.var ?? ''));
    if (features.size <= MAX_FEATURES) remember(key, features);
    return features;
  }

  /** Sessions with a query out; at most one each, so a client cannot make the server flood it. */
  const asking = new WeakSet<Session>();
  /** The caps a session announced while its query was out, asked about next. */
  const queued = new WeakMap<Session, XmlElement>();

  function ask(session: Session, c: XmlElement, key: string): void {
    asking.add(session);
    learn(session, c, key)
      .then((features) => apply(session, key, features))
      .catch((err: unknown) => ctx.log.error({ err }, 'entity capabilities'))
      .finally(() => {
        asking.delete(session);
        const next = queued.get(session);
        queued.delete(session);
        if (next) observe(session, next, true);
      });
  }

  function observe(session: Session, c: XmlElement, retry = false): void {
    const { hash, node, ver } = c.attrs;
    if (!isSupportedCapsHash(hash) || !node || !ver || ver.length > 200 || node.length > 1024)
      return;
    const key = `${hash} ${ver}`;
    const state = current.get(session);
    if (state?.key === key && (!retry || state.features)) return;
    if (state?.key !== key) current.set(session, { key });
    const known = cache.get(key);
    if (known) {
      remember(key, known);
      apply(session, key, known);
      return;
    }
    // Answers are per session: another client's claim of the same ver proves nothing.
    if (asking.has(session)) queued.set(session, c);
    else ask(session, c, key);
  }

  // Broadcast presence carries the caps; the stanza goes on unchanged.
  ctx.router.outboundFilters.push((stanza, session) => {
    if (stanza.name === 'presence' && stanza.attrs.to === undefined && !stanza.attrs.type) {
      const c = stanza.getChild('c', NS_CAPS);
      if (c) observe(session, c);
    }
    return 'continue';
  });

  return {
    features: (session) => current.get(session)?.features,
    onChange: (l) => listeners.push(l),
  };
}
