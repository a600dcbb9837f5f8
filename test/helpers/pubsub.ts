import { type XmlElement, x } from './raw-client.ts';

/** Building XEP-0060 requests for raw test clients. */

export const PUBSUB = 'http://jabber.org/protocol/pubsub';
export const DATA = 'jabber:x:data';

/** A hidden-FORM_TYPE data form with one value per field. */
export function form(type: string, formType: string, fields: Record<string, string>): XmlElement {
  return x(
    'x',
    { xmlns: DATA, type },
    x('field', { var: 'FORM_TYPE', type: 'hidden' }, x('value', {}, formType)),
    ...Object.entries(fields).map(([k, v]) => x('field', { var: k }, x('value', {}, v))),
  );
}

export function publishIq(
  node: string,
  payload: XmlElement,
  opts: { id?: string; options?: Record<string, string>; to?: string } = {},
): XmlElement {
  return x(
    'iq',
    { type: 'set', to: opts.to },
    x(
      'pubsub',
      { xmlns: PUBSUB },
      x('publish', { node }, x('item', { id: opts.id }, payload)),
      opts.options &&
        x('publish-options', {}, form('submit', `${PUBSUB}#publish-options`, opts.options)),
    ),
  );
}
