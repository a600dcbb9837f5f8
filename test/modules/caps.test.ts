import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capsHashMatches } from '../../src/modules/caps/verification.ts';
import { x } from '../../src/xml/element.ts';

/** XEP-0115 §5.2 and §5.3 worked examples, and the §5.4 refusals. */

const DISCO = 'http://jabber.org/protocol/disco#info';
const BASE_FEATURES = [
  'http://jabber.org/protocol/caps',
  'http://jabber.org/protocol/disco#info',
  'http://jabber.org/protocol/disco#items',
  'http://jabber.org/protocol/muc',
];
const feature = (v: string) => x('feature', { var: v });
const field = (name: string, ...values: string[]) =>
  x('field', { var: name }, ...values.map((v) => x('value', {}, v)));

describe('XEP-0115 verification', () => {
  it('matches the simple example (§5.2)', () => {
    const query = x(
      'query',
      { xmlns: DISCO },
      x('identity', { category: 'client', type: 'pc', name: 'Exodus 0.9.1' }),
      ...[...BASE_FEATURES].reverse().map(feature),
    );
    assert.equal(capsHashMatches('sha-1', 'QgayPKawpkPSDYmwT/WM94uAlu0=', query), true);
    assert.equal(capsHashMatches('sha-1', 'QgayPKawpkPSDYmwT/WM94uAlu1=', query), false);
    assert.equal(capsHashMatches('md5', 'QgayPKawpkPSDYmwT/WM94uAlu0=', query), false);
  });

  it('matches the complex example with languages and an extended form (§5.3)', () => {
    const query = x(
      'query',
      { xmlns: DISCO },
      x('identity', { 'xml:lang': 'en', category: 'client', name: 'Psi 0.11', type: 'pc' }),
      x('identity', { 'xml:lang': 'el', category: 'client', name: 'Ψ 0.11', type: 'pc' }),
      ...BASE_FEATURES.map(feature),
      x(
        'x',
        { xmlns: 'jabber:x:data', type: 'result' },
        x(
          'field',
          { var: 'FORM_TYPE', type: 'hidden' },
          x('value', {}, 'urn:xmpp:dataforms:softwareinfo'),
        ),
        field('ip_version', 'ipv4', 'ipv6'),
        field('os', 'Mac'),
        field('os_version', '10.5.1'),
        field('software', 'Psi'),
        field('software_version', '0.11'),
      ),
    );
    assert.equal(capsHashMatches('sha-1', 'q07IKJEyjvHSyhy//CH0CxmKi8w=', query), true);
  });

  it('refuses results with duplicate features or identities (§5.4)', () => {
    const dup = x(
      'query',
      { xmlns: DISCO },
      x('identity', { category: 'client', type: 'pc', name: 'Exodus 0.9.1' }),
      ...BASE_FEATURES.map(feature),
      feature(BASE_FEATURES[0]!),
    );
    assert.equal(capsHashMatches('sha-1', 'QgayPKawpkPSDYmwT/WM94uAlu0=', dup), false);
  });
});
