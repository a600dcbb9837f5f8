import { type XmlElement, x } from '../xml/element.ts';

/** XEP-0004 data forms: the parts Rampart reads (submitted options) and writes (config forms). */
export const NS_DATA = 'jabber:x:data';

export interface FormField {
  var: string;
  type?: string;
  label?: string;
  values: string[];
  options?: string[];
}

export interface ParsedForm {
  type: string | undefined;
  /** The hidden FORM_TYPE value, when there is one. */
  formType: string | undefined;
  /** Values by field var, without FORM_TYPE; a repeated var is a form error (undefined result). */
  fields: Map<string, string[]>;
}

/** Reads a form; undefined when a var is missing or repeated. */
export function parseForm(form: XmlElement): ParsedForm | undefined {
  const fields = new Map<string, string[]>();
  let formType: string | undefined;
  for (const field of form.getChildren('field')) {
    const name = field.attrs.var;
    if (name === undefined || fields.has(name) || (name === 'FORM_TYPE' && formType !== undefined))
      return undefined;
    const values = field.getChildren('value').map((v) => v.text());
    if (name === 'FORM_TYPE') formType = values[0];
    else fields.set(name, values);
  }
  return { type: form.attrs.type, formType, fields };
}

export function formElement(type: string, formType: string, fields: FormField[]): XmlElement {
  return x(
    'x',
    { xmlns: NS_DATA, type },
    x('field', { var: 'FORM_TYPE', type: 'hidden' }, x('value', {}, formType)),
    ...fields.map((f) =>
      x(
        'field',
        { var: f.var, type: f.type, label: f.label },
        ...(f.options ?? []).map((o) => x('option', {}, x('value', {}, o))),
        ...f.values.map((v) => x('value', {}, v)),
      ),
    ),
  );
}
