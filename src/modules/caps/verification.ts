import { createHash } from 'node:crypto';
import { NS_DATA, parseForm } from '../../stanza/data-form.ts';
import type { XmlElement } from '../../xml/element.ts';

/** XEP-0115 hash names (IANA) Rampart accepts; MD5 is refused: it makes cache poisoning easy. */
const HASHES: Record<string, string> = {
  'sha-1': 'sha1',
  'sha-224': 'sha224',
  'sha-256': 'sha256',
  'sha-384': 'sha384',
  'sha-512': 'sha512',
};

export function isSupportedCapsHash(name: string | undefined): boolean {
  return name !== undefined && name in HASHES;
}

/** "i;octet" collation (RFC 4790), which XEP-0115 §5.1 asks for: UTF-8 byte order. */
function octetSort(values: string[]): string[] {
  return values
    .map((v) => Buffer.from(v, 'utf8'))
    .sort(Buffer.compare)
    .map((b) => b.toString('utf8'));
}

function hasDuplicates(values: string[]): boolean {
  return new Set(values).size !== values.length;
}

/**
 * The XEP-0115 §5.1 verification string of a disco#info result, or undefined when §5.4 says
 * the result must not be trusted (duplicate identities, features or FORM_TYPEs).
 */
export function capsVerificationString(query: XmlElement): string | undefined {
  const identities = query
    .getChildren('identity')
    .map(
      (i) =>
        `${i.attrs.category ?? ''}/${i.attrs.type ?? ''}/${i.attrs['xml:lang'] ?? ''}/${i.attrs.name ?? ''}`,
    );
  const features = query.getChildren('feature').map((f) => f.attrs.var ?? '');
  if (hasDuplicates(identities) || hasDuplicates(features)) return undefined;
  let s = '';
  for (const id of octetSort(identities)) s += `${id}<`;
  for (const f of octetSort(features)) s += `${f}<`;

  const forms = new Map<string, string>();
  for (const form of query.getChildren('x', NS_DATA)) {
    const formTypeField = form.getChildren('field').find((f) => f.attrs.var === 'FORM_TYPE');
    // A form without a hidden FORM_TYPE is not part of the hash (§5.4 step 3.6).
    if (formTypeField?.attrs.type !== 'hidden') continue;
    const parsed = parseForm(form);
    if (!parsed || parsed.formType === undefined || forms.has(parsed.formType)) return undefined;
    let part = `${parsed.formType}<`;
    for (const name of octetSort([...parsed.fields.keys()])) {
      part += `${name}<`;
      for (const v of octetSort(parsed.fields.get(name)!)) part += `${v}<`;
    }
    forms.set(parsed.formType, part);
  }
  for (const formType of octetSort([...forms.keys()])) s += forms.get(formType)!;
  return s;
}

/** Does `ver` match the disco#info result under hash `hashName`? */
export function capsHashMatches(hashName: string, ver: string, query: XmlElement): boolean {
  const algorithm = HASHES[hashName];
  const s = capsVerificationString(query);
  if (algorithm === undefined || s === undefined) return false;
  return createHash(algorithm).update(s, 'utf8').digest('base64') === ver;
}
