import { randomUUID } from 'node:crypto';
import type { ServerContext } from '../../server/context.ts';
import { NS_DATA, parseForm } from '../../stanza/data-form.ts';
import { StanzaError } from '../../stanza/errors.ts';
import type { PubsubItem, PubsubNodeConfig } from '../../storage/ports.ts';
import { type XmlElement, x } from '../../xml/element.ts';
import { parseStoredElement } from '../../xml/parse-element.ts';
import type { AccountDiscoProvider } from '../disco/index.ts';
import {
  applyOptions,
  configForm,
  defaultNodeConfig,
  FORM_NODE_CONFIG,
  FORM_PUBLISH_OPTIONS,
  meetsPreconditions,
  NS_PUBSUB,
  NS_PUBSUB_OWNER,
  pubsubError,
} from './node-config.ts';

const MAX_NODE_NAME = 1024;
const MAX_ITEM_ID = 1024;

/** XEP-0060 features a PEP service announces (XEP-0163 §9); all are implemented here. */
const FEATURES = [
  'access-open',
  'access-presence',
  'access-whitelist',
  'auto-create',
  'config-node',
  'create-nodes',
  'delete-items',
  'delete-nodes',
  'filtered-notifications',
  'item-ids',
  'last-published',
  'persistent-items',
  'presence-notifications',
  'publish',
  'publish-options',
  'retract-items',
  'retrieve-default',
  'retrieve-items',
].map((f) => `${NS_PUBSUB}#${f}`);

/** What happened on a node; the notification module turns these into events (XEP-0163 §4.3). */
export type PepChange =
  | { kind: 'published'; item: PubsubItem; payload: XmlElement }
  | { kind: 'retracted'; id: string }
  | { kind: 'deleted' };

export type PepListener = (
  owner: string,
  node: string,
  config: PubsubNodeConfig,
  change: PepChange,
) => void;

export interface PepService {
  /** May `viewer` read items of `owner`'s node configured as `config` (and be notified)? */
  mayAccess(owner: string, viewer: string, config: PubsubNodeConfig): Promise<boolean>;
  /** Called after every change to a node has been stored. */
  onChange(listener: PepListener): void;
  disco: AccountDiscoProvider;
}

/**
 * XEP-0163 Personal Eventing Protocol: a XEP-0060 service on each account's bare JID, with
 * publish-options preconditions and the presence, open and whitelist access models. Only the
 * owner changes its nodes; who reads them is the node's access model (T7: presence-based
 * nodes go only to approved contacts).
 */
export function pepModule(ctx: ServerContext): PepService {
  const store = ctx.storage.pubsub;
  const limits = ctx.config.pep;
  const listeners: PepListener[] = [];
  const emit = (owner: string, node: string, config: PubsubNodeConfig, change: PepChange) => {
    for (const l of listeners) {
      try {
        l(owner, node, config, change);
      } catch (err) {
        ctx.log.error({ err }, 'PEP listener failed');
      }
    }
  };

  /** A storage limit refused a request: recorded like every other defence (T5). */
  function refused(owner: string, rule: string, evidence: Record<string, unknown>): void {
    ctx.events.record({ threat: 'T5', rule, actor: owner, verdict: 'refuse', evidence });
  }

  async function mayAccess(
    owner: string,
    viewer: string,
    config: PubsubNodeConfig,
  ): Promise<boolean> {
    if (viewer === owner) return true;
    if (config.accessModel === 'open') return true;
    if (config.accessModel === 'presence') return ctx.router.presenceAuthority(owner, viewer);
    return false;
  }

  /** The node a request names, or the error XEP-0060 prescribes. */
  function nodeOf(el: XmlElement): string {
    const node = el.attrs.node;
    if (node === undefined || node === '') throw pubsubError('bad-request', 'nodeid-required');
    if (node.length > MAX_NODE_NAME) throw new StanzaError('not-acceptable', 'node name too long');
    return node;
  }

  /** The submitted options of a <publish-options/> or <configure/> wrapper, checked. */
  function optionsIn(wrapper: XmlElement | undefined, formType: string): Map<string, string[]> {
    const form = wrapper?.getChild('x', NS_DATA);
    if (!form || form.attrs.type === 'cancel') return new Map();
    const parsed = parseForm(form);
    if (!parsed || (parsed.formType !== undefined && parsed.formType !== formType))
      throw pubsubError('bad-request', 'invalid-options');
    return parsed.fields;
  }

  async function createNode(
    owner: string,
    node: string,
    fields: Map<string, string[]>,
  ): Promise<PubsubNodeConfig> {
    if ((await store.nodes(owner)).length >= limits.max_nodes) {
      refused(owner, 'pep.max-nodes', { node: node.slice(0, 200), max: limits.max_nodes });
      throw new StanzaError('not-allowed', `an account may have at most ${limits.max_nodes} nodes`);
    }
    const config = applyOptions(defaultNodeConfig(), fields, limits.max_items);
    await store.putNode(owner, node, config);
    return config;
  }

  async function publish(owner: string, pubsub: XmlElement, publisher: string) {
    const request = pubsub.getChild('publish')!;
    const node = nodeOf(request);
    const items = request.getChildren('item');
    if (items.length !== 1) throw pubsubError('bad-request', 'invalid-payload');
    const item = items[0]!;
    const payloads = item.elements();
    if (payloads.length !== 1) throw pubsubError('bad-request', 'invalid-payload');
    const payload = payloads[0]!;
    if (payload.xmlns === undefined || payload.xmlns.startsWith(NS_PUBSUB))
      throw pubsubError('bad-request', 'invalid-payload', 'the payload needs its own namespace');
    const serialized = payload.toString();
    if (serialized.length > limits.max_item_bytes) {
      refused(owner, 'pep.item-too-big', { node, bytes: serialized.length });
      throw pubsubError(
        'not-acceptable',
        'payload-too-big',
        `an item is limited to ${limits.max_item_bytes} bytes`,
      );
    }
    const id = item.attrs.id || randomUUID();
    if (id.length > MAX_ITEM_ID) throw pubsubError('bad-request', 'invalid-payload');
    const options = optionsIn(pubsub.getChild('publish-options'), FORM_PUBLISH_OPTIONS);
    let config = await store.getNode(owner, node);
    if (config === undefined) {
      try {
        config = await createNode(owner, node, options);
      } catch (err) {
        if (err instanceof StanzaError && err.condition === 'not-acceptable')
          throw pubsubError('conflict', 'precondition-not-met', err.text);
        throw err;
      }
    } else if (!meetsPreconditions(config, options, limits.max_items)) {
      throw pubsubError(
        'conflict',
        'precondition-not-met',
        'the node is configured differently; reconfigure it or publish without these options',
      );
    }
    const stored: PubsubItem = { id, payload: serialized, publisher, publishedAt: Date.now() };
    await store.publish(owner, node, stored);
    emit(owner, node, config, { kind: 'published', item: stored, payload });
    return x('pubsub', { xmlns: NS_PUBSUB }, x('publish', { node }, x('item', { id })));
  }

  async function retract(owner: string, request: XmlElement): Promise<void> {
    const node = nodeOf(request);
    const id = request.getChild('item')?.attrs.id;
    if (!id) throw pubsubError('bad-request', 'item-required');
    const config = await store.getNode(owner, node);
    if (!config || !(await store.retract(owner, node, id))) throw new StanzaError('item-not-found');
    const notify = request.attrs.notify;
    if (notify === 'true' || notify === '1' || config.notifyRetract)
      emit(owner, node, config, { kind: 'retracted', id });
  }

  async function items(owner: string, viewer: string, request: XmlElement) {
    const node = nodeOf(request);
    const config = await store.getNode(owner, node);
    // A whitelist node (private data, bookmarks) does not even exist for anyone else.
    if (!config || (config.accessModel === 'whitelist' && viewer !== owner))
      throw new StanzaError('item-not-found');
    if (!(await mayAccess(owner, viewer, config)))
      throw pubsubError('not-authorized', 'presence-subscription-required');
    const ids = request
      .getChildren('item')
      .map((i) => i.attrs.id)
      .filter((id): id is string => id !== undefined);
    const rawMax = request.attrs.max_items;
    const max = rawMax === undefined ? undefined : Number(rawMax);
    if (max !== undefined && (!Number.isInteger(max) || max < 1))
      throw new StanzaError('bad-request', 'max_items is a positive integer');
    const found = await store.items(owner, node, {
      ...(ids.length > 0 ? { ids } : {}),
      ...(max === undefined ? {} : { max }),
    });
    return x('pubsub', { xmlns: NS_PUBSUB }, x('items', { node }, ...found.map(itemElement)));
  }

  const ownerOnly = (req: { from: { bare: string }; to: { bare: string } }) => {
    if (req.from.bare !== req.to.bare)
      throw new StanzaError('forbidden', 'only the owner changes its nodes');
    return req.to.bare;
  };

  ctx.router.onAccountIq('set', NS_PUBSUB, async (iq, req) => {
    const owner = ownerOnly(req);
    const pubsub = iq.elements()[0]!;
    const action = pubsub
      .elements()
      .find((e) => e.name !== 'publish-options' && e.name !== 'configure');
    switch (action?.name) {
      case 'publish':
        return publish(owner, pubsub, req.from.full);
      case 'retract':
        await retract(owner, action);
        return undefined;
      case 'create': {
        const node = nodeOf(action);
        if (await store.getNode(owner, node)) throw new StanzaError('conflict', 'the node exists');
        await createNode(owner, node, optionsIn(pubsub.getChild('configure'), FORM_NODE_CONFIG));
        return undefined;
      }
      default:
        throw pubsubError('feature-not-implemented', 'unsupported');
    }
  });

  ctx.router.onAccountIq('get', NS_PUBSUB, async (iq, req) => {
    const request = iq.elements()[0]!.getChild('items');
    if (!request) throw pubsubError('feature-not-implemented', 'unsupported');
    return items(req.to.bare, req.from.bare, request);
  });

  ctx.router.onAccountIq('get', NS_PUBSUB_OWNER, async (iq, req) => {
    const owner = ownerOnly(req);
    const request = iq.elements()[0]!.elements()[0];
    if (request?.name === 'default')
      return ownerPayload(x('default', {}, configForm(defaultNodeConfig(), limits.max_items)));
    if (request?.name !== 'configure') throw pubsubError('feature-not-implemented', 'unsupported');
    const node = nodeOf(request);
    const config = await store.getNode(owner, node);
    if (!config) throw new StanzaError('item-not-found');
    return ownerPayload(x('configure', { node }, configForm(config, limits.max_items)));
  });

  ctx.router.onAccountIq('set', NS_PUBSUB_OWNER, async (iq, req) => {
    const owner = ownerOnly(req);
    const request = iq.elements()[0]!.elements()[0];
    if (request?.name !== 'configure' && request?.name !== 'delete')
      throw pubsubError('feature-not-implemented', 'unsupported');
    const node = nodeOf(request);
    const config = await store.getNode(owner, node);
    if (!config) throw new StanzaError('item-not-found');
    if (request.name === 'delete') {
      await store.deleteNode(owner, node);
      emit(owner, node, config, { kind: 'deleted' });
      return undefined;
    }
    const options = optionsIn(request, FORM_NODE_CONFIG);
    await store.putNode(owner, node, applyOptions(config, options, limits.max_items));
    return undefined;
  });

  const disco: AccountDiscoProvider = {
    identities: [x('identity', { category: 'pubsub', type: 'pep' })],
    features: [NS_PUBSUB, ...FEATURES],
    async items(owner, viewer) {
      const out: XmlElement[] = [];
      for (const { node, config } of await store.nodes(owner)) {
        if (await mayAccess(owner, viewer, config)) out.push(x('item', { jid: owner, node }));
      }
      return out;
    },
    async nodeInfo(owner, viewer, node) {
      const config = await store.getNode(owner, node);
      if (!config || !(await mayAccess(owner, viewer, config))) return undefined;
      return [
        x('identity', { category: 'pubsub', type: 'leaf' }),
        x('feature', { var: NS_PUBSUB }),
      ];
    },
  };

  return { mayAccess, onChange: (l) => listeners.push(l), disco };
}

function ownerPayload(child: XmlElement): XmlElement {
  return x('pubsub', { xmlns: NS_PUBSUB_OWNER }, child);
}

/** An item as it travels in results and notifications; the publisher's resource stays private (T6). */
export function itemElement(item: { id: string; payload: string }): XmlElement {
  return x('item', { id: item.id }, parseStoredElement(item.payload));
}
