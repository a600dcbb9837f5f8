import { createHash } from 'node:crypto';
import { nextId, ns, type RawClient, type XmlElement, x } from './raw-client.ts';

/**
 * XEP-0115 entity capabilities for raw test clients, written here from the XEP (not imported
 * from the server) so the server's verification is checked against an independent reading.
 */

export const NS_CAPS = 'http://jabber.org/protocol/caps';
const IDENTITY = { category: 'client', type: 'pc', name: 'rampart-test' };

/** The sha-1 ver of one identity and `features` (no extended forms), XEP-0115 §5.1. */
export function capsVer(features: readonly string[]): string {
  let s = `${IDENTITY.category}/${IDENTITY.type}//${IDENTITY.name}<`;
  for (const f of [...features].sort()) s += `${f}<`;
  return createHash('sha1').update(s, 'utf8').digest('base64');
}

export interface CapsOptions {
  /** Announce this ver instead of the right one (a lying or broken client). */
  ver?: string;
  /** Does the test expect the server to ask (the ver is not cached yet)? Default true. */
  expectQuery?: boolean;
}

/**
 * Sends available presence with caps for `features`, answers the server's disco#info query
 * (when one is expected) and returns that query, then round-trips a ping so the server has
 * handled the answer before the test goes on.
 */
export async function presenceWithCaps(
  c: RawClient,
  features: readonly string[],
  opts: CapsOptions = {},
): Promise<XmlElement | undefined> {
  const ver = opts.ver ?? capsVer(features);
  const node = 'https://rampart.test/client';
  c.send(x('presence', {}, x('c', { xmlns: NS_CAPS, hash: 'sha-1', node, ver })));
  let query: XmlElement | undefined;
  if (opts.expectQuery ?? true) {
    query = await c.next(
      (e) =>
        e.name === 'iq' &&
        e.attrs.type === 'get' &&
        e.getChild('query', ns.discoInfo) !== undefined,
      'the server’s disco#info query for our caps',
    );
    c.send(
      x(
        'iq',
        { type: 'result', id: query.attrs.id, to: query.attrs.from },
        x(
          'query',
          { xmlns: ns.discoInfo, node: `${node}#${ver}` },
          x('identity', IDENTITY),
          ...features.map((f) => x('feature', { var: f })),
        ),
      ),
    );
  }
  const pong = await c.iq(
    x('iq', { type: 'get', id: nextId('ping'), to: c.domain }, x('ping', { xmlns: ns.ping })),
  );
  if (pong.attrs.type !== 'result') throw new Error(`ping failed: ${pong.toString()}`);
  return query;
}
