import { type FormField, formElement } from '../../stanza/data-form.ts';
import { StanzaError, type StanzaErrorCondition } from '../../stanza/errors.ts';
import type { PubsubAccessModel, PubsubNodeConfig, PubsubSendLast } from '../../storage/ports.ts';
import { x } from '../../xml/element.ts';

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_PUBSUB_OWNER = 'http://jabber.org/protocol/pubsub#owner';
export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
export const NS_PUBSUB_ERRORS = 'http://jabber.org/protocol/pubsub#errors';
export const FORM_NODE_CONFIG = 'http://jabber.org/protocol/pubsub#node_config';
export const FORM_PUBLISH_OPTIONS = 'http://jabber.org/protocol/pubsub#publish-options';

const ACCESS_MODELS: readonly PubsubAccessModel[] = ['presence', 'open', 'whitelist'];
const SEND_LAST: readonly PubsubSendLast[] = ['never', 'on_sub', 'on_sub_and_presence'];

/** A pubsub error: the XMPP condition with its XEP-0060 application condition. */
export function pubsubError(
  condition: StanzaErrorCondition,
  pubsubCondition?: string,
  text?: string,
): StanzaError {
  return new StanzaError(
    condition,
    text,
    pubsubCondition === undefined ? undefined : x(pubsubCondition, { xmlns: NS_PUBSUB_ERRORS }),
  );
}

/** XEP-0163 §4.4 defaults: one item, readable by those who see the owner's presence. */
export function defaultNodeConfig(): PubsubNodeConfig {
  return {
    accessModel: 'presence',
    maxItems: 1,
    persistItems: true,
    sendLastPublishedItem: 'on_sub_and_presence',
    notifyRetract: true,
  };
}

function parseBool(v: string): boolean | undefined {
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return undefined;
}

/** Options every node has and clients sometimes state; Rampart always delivers payloads. */
const ALWAYS_TRUE = new Set(['pubsub#deliver_payloads', 'pubsub#deliver_notifications']);

/**
 * One submitted option applied to `config`; returns false when Rampart does not support the
 * field or the value (the caller decides which error that is).
 */
function applyField(
  config: PubsubNodeConfig,
  field: string,
  value: string,
  maxItemsLimit: number,
): boolean {
  switch (field) {
    case 'pubsub#access_model':
      if (!ACCESS_MODELS.includes(value as PubsubAccessModel)) return false;
      config.accessModel = value as PubsubAccessModel;
      return true;
    case 'pubsub#max_items': {
      const n = value === 'max' ? maxItemsLimit : Number(value);
      if (!Number.isInteger(n) || n < 1 || n > maxItemsLimit) return false;
      config.maxItems = n;
      return true;
    }
    case 'pubsub#persist_items':
    case 'pubsub#notify_retract': {
      const b = parseBool(value);
      if (b === undefined) return false;
      if (field === 'pubsub#persist_items') config.persistItems = b;
      else config.notifyRetract = b;
      return true;
    }
    case 'pubsub#send_last_published_item':
      if (!SEND_LAST.includes(value as PubsubSendLast)) return false;
      config.sendLastPublishedItem = value as PubsubSendLast;
      return true;
    case 'pubsub#title':
      if (value.length > 256) return false;
      config.title = value;
      return true;
    default:
      return ALWAYS_TRUE.has(field) && parseBool(value) === true;
  }
}

/** `base` changed by submitted node_config or publish-options fields; unsupported ones refuse. */
export function applyOptions(
  base: PubsubNodeConfig,
  fields: Map<string, string[]>,
  maxItemsLimit: number,
): PubsubNodeConfig {
  const config = { ...base };
  for (const [field, values] of fields) {
    if (!applyField(config, field, values[0] ?? '', maxItemsLimit))
      throw new StanzaError('not-acceptable', `unsupported value for ${field}`);
  }
  // A node that does not persist keeps only what XEP-0163 needs: the last item.
  if (!config.persistItems) config.maxItems = 1;
  return config;
}

/**
 * XEP-0060 §7.1.5: each publish option is a precondition the existing node must meet. An
 * option Rampart does not know can never be met.
 */
export function meetsPreconditions(
  config: PubsubNodeConfig,
  fields: Map<string, string[]>,
  maxItemsLimit: number,
): boolean {
  for (const [field, values] of fields) {
    const probe = { ...config };
    if (!applyField(probe, field, values[0] ?? '', maxItemsLimit)) return false;
    if (JSON.stringify(probe) !== JSON.stringify(config)) return false;
  }
  return true;
}

/** The pubsub#node_config form describing `config` (XEP-0060 §8.2). */
export function configForm(config: PubsubNodeConfig, maxItemsLimit: number) {
  const bool = (b: boolean) => (b ? '1' : '0');
  const fields: FormField[] = [
    {
      var: 'pubsub#access_model',
      type: 'list-single',
      options: [...ACCESS_MODELS],
      values: [config.accessModel],
    },
    {
      var: 'pubsub#max_items',
      type: 'text-single',
      label: `at most ${maxItemsLimit}, or max`,
      values: [String(config.maxItems)],
    },
    { var: 'pubsub#persist_items', type: 'boolean', values: [bool(config.persistItems)] },
    { var: 'pubsub#notify_retract', type: 'boolean', values: [bool(config.notifyRetract)] },
    {
      var: 'pubsub#send_last_published_item',
      type: 'list-single',
      options: [...SEND_LAST],
      values: [config.sendLastPublishedItem],
    },
    { var: 'pubsub#deliver_payloads', type: 'boolean', values: ['1'] },
    { var: 'pubsub#deliver_notifications', type: 'boolean', values: ['1'] },
    { var: 'pubsub#title', type: 'text-single', values: config.title ? [config.title] : [] },
  ];
  return formElement('form', FORM_NODE_CONFIG, fields);
}
