import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractUrls } from '../../../src/threat/inspectors/url-extract.ts';

const urls = (text: string): string[] => extractUrls(text).map((u) => u.url);

test('finds links with and without a scheme', () => {
  assert.deepEqual(urls('docs at https://nodejs.org/api/ and www.w3.org/TR/'), [
    'https://nodejs.org/api/',
    'http://www.w3.org/TR/',
  ]);
  assert.deepEqual(urls('grab it from files.acme.test/q3/report'), [
    'http://files.acme.test/q3/report',
  ]);
});

test('undoes hxxp and bracketed dots, marking them defanged', () => {
  const [u] = extractUrls('seen at hxxps://bad-host[.]test/drop');
  assert.equal(u?.url, 'https://bad-host.test/drop');
  assert.equal(u?.defanged, true);
  assert.equal(u?.obfuscated, false);
});

test('undoes " dot ", spaced dots, zero-width and fullwidth tricks, marking them obfuscated', () => {
  for (const [text, want] of [
    ['try games dot prizes dot test / x.exe', 'http://games.prizes.test/x.exe'],
    ['看看 pics . fun . test / a', 'http://pics.fun.test/a'],
    ['http://198.51.100.4:90\u200c90/', 'http://198.51.100.4:9090/'],
    ['ｐｉｃｓ．ｅｘａｍｐｌｅ．ｃｏｍ／ｘ', 'http://pics.example.com/x'],
    ['看这个 pics。fun-zone。test/a', 'http://pics.fun-zone.test/a'],
  ] as const) {
    const [u] = extractUrls(text);
    assert.equal(u?.url, want, text);
    assert.equal(u?.obfuscated, true, text);
  }
});

test('a scheme spelled out letter by letter is read', () => {
  assert.deepEqual(urls('omg h t t p s : / / files.lan-party.xyz/x'), [
    'https://files.lan-party.xyz/x',
  ]);
});

test('reads ports, user info and non-web schemes', () => {
  const [u] = extractUrls('login: http://bank.test@203.0.113.5:8081/x');
  assert.equal(u?.rawHost, '203.0.113.5');
  assert.equal(u?.port, 8081);
  assert.equal(u?.userinfo, 'bank.test');
  assert.deepEqual(
    extractUrls('click javascript:void(0) or ymsgr:sendIM?x').map((x) => x.scheme),
    ['javascript', 'ymsgr'],
  );
});

test('does not take file names, e-mail addresses, bare IPs or code for links', () => {
  assert.deepEqual(
    urls('see report.pdf, mail ana@corp.test, ping 10.1.2.3, run main.py and app.js, v1.2.3'),
    [],
  );
});
