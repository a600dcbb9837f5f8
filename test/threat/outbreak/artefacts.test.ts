import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  domainSuffixes,
  extractArtefacts,
  parseBlockTarget,
} from '../../../src/threat/outbreak/artefacts.ts';

const keyed = (text: string, extra = {}) =>
  new Map(
    extractArtefacts({ text, ...extra })
      .filter((a) => a.kind !== 'text')
      .map((a) => [a.key, a]),
  );

test('links are normalised: obfuscated, decimal, hex and dotted forms of one target match', () => {
  const forms = [
    'lol http://192.0.2.68:8180/',
    'lol hxxp://192[.]0[.]2[.]68:8180/',
    'lol http://3221226052:8180/',
    'lol http://0xc0000244:8180/',
    'lol HTTP://192.0.2.68:8180/',
  ];
  for (const f of forms) assert.ok(keyed(f).has('url:http://192.0.2.68:8180/'), f);
  assert.ok(keyed('see http://example.com:80/a').has('url:http://example.com/a'));
});

test('suspicious: clickable links to untrusted or flagged hosts; internal, well-known and defanged links only count', () => {
  const worm = keyed('look http://192.0.2.9:8180/pics.scr');
  assert.equal(worm.get('url:http://192.0.2.9:8180/pics.scr')?.suspicious, true);
  assert.equal(worm.get('domain:192.0.2.9')?.suspicious, true);
  const outside = keyed('look https://share-moments.net/p/x?ref=1');
  assert.equal(outside.get('url:https://share-moments.net/p/x?ref=1')?.suspicious, true);
  assert.equal(outside.get('domain:share-moments.net')?.suspicious, true);
  const known = keyed('see https://github.com/org/repo/blob/main/a.js');
  assert.equal(known.get('url:https://github.com/org/repo/blob/main/a.js')?.suspicious, false);
  const defanged = keyed('blocking hxxp://192.0.2.77:8180/ at the proxy');
  assert.equal(defanged.get('url:http://192.0.2.77:8180/')?.suspicious, false);
  assert.equal(defanged.get('domain:192.0.2.77')?.suspicious, false);
  const intranet = keyed('policy: https://intranet.corp.example/policies/expenses');
  assert.equal(
    intranet.get('url:https://intranet.corp.example/policies/expenses')?.suspicious,
    false,
  );
  assert.equal(
    intranet.get('domain:corp.example')?.blockable,
    false,
    'internal hosts are never blocked',
  );
  const trusted = extractArtefacts(
    { text: 'https://tinyurl.com/x' },
    { trustedDomains: ['tinyurl.com'] },
  ).find((a) => a.key === 'domain:tinyurl.com');
  assert.equal(trusted?.suspicious, false);
  assert.equal(trusted?.blockable, false);
});

test('every parent domain is a key (blocks cover subdomains); only the registrable one counts', () => {
  assert.deepEqual(domainSuffixes('a.b.evil.example'), [
    'a.b.evil.example',
    'b.evil.example',
    'evil.example',
  ]);
  assert.deepEqual(domainSuffixes('192.0.2.1'), ['192.0.2.1']);
  const found = keyed('http://a.b.evil.example/x');
  assert.equal(found.get('domain:a.b.evil.example')?.counted, false);
  assert.equal(found.get('domain:evil.example')?.counted, true);
});

test('files: hashes and names; programs are suspicious', () => {
  const hash = 'ab'.repeat(32);
  const found = keyed('hey try it', {
    sha256: [hash.toUpperCase()],
    fileNames: ['ShootGame.exe', 'notes.txt'],
  });
  assert.equal(found.get(`sha256:${hash}`)?.blockable, true);
  assert.equal(found.get('file:shootgame.exe')?.suspicious, true);
  assert.equal(found.get('file:notes.txt')?.suspicious, false);
  assert.equal(found.get('file:notes.txt')?.blockable, false);
});

test('text fingerprints count but are never suspicious on their own nor blockable', () => {
  const text = extractArtefacts({ text: 'meeting moved to 3pm' }).filter((a) => a.kind === 'text');
  assert.ok(text.length > 0);
  assert.ok(text.every((a) => a.counted && !a.suspicious && !a.blockable));
});

test('block targets: URL, domain (IDN to punycode), SHA-256; anything else is refused', () => {
  assert.deepEqual(parseBlockTarget('hxxp://192.0.2.7:8180/'), {
    kind: 'url',
    value: 'http://192.0.2.7:8180/',
  });
  assert.deepEqual(parseBlockTarget('Evil.Example.'), { kind: 'domain', value: 'evil.example' });
  assert.deepEqual(parseBlockTarget('bücher.example'), {
    kind: 'domain',
    value: 'xn--bcher-kva.example',
  });
  assert.deepEqual(parseBlockTarget('AB'.repeat(32)), { kind: 'sha256', value: 'ab'.repeat(32) });
  assert.throws(() => parseBlockTarget('not a target!'), /not a URL/);
});
