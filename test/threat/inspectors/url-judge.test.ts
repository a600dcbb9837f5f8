import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractUrls } from '../../../src/threat/inspectors/url-extract.ts';
import {
  judgeUrl,
  oneEdit,
  parseIpv4,
  skeleton,
} from '../../../src/threat/inspectors/url-judge.ts';

const flags = (text: string): string[] =>
  extractUrls(text).flatMap((u) => judgeUrl(u).findings.map((f) => f.flag));

test('parses IPv4 written as dotted, decimal, hex and octal', () => {
  assert.deepEqual(parseIpv4('203.0.113.9'), { ip: '203.0.113.9', form: 'dotted' });
  assert.deepEqual(parseIpv4('3405803785'), { ip: '203.0.113.9', form: 'decimal' });
  assert.deepEqual(parseIpv4('0xcb007109'), { ip: '203.0.113.9', form: 'hex' });
  assert.deepEqual(parseIpv4('0313.0.0161.011'), { ip: '203.0.113.9', form: 'octal' });
  assert.equal(parseIpv4('intranet'), undefined);
  assert.equal(parseIpv4('300.1.1.1'), undefined);
});

test('flags IP hosts, odd ports, programs, archives and shorteners', () => {
  assert.deepEqual(flags('http://198.51.100.20/'), ['ip-literal']);
  assert.deepEqual(flags('http://2130706433/'), ['ip-encoded']);
  assert.ok(flags('http://downloads.test:8181/').includes('odd-port'));
  assert.ok(flags('http://cdn.test/setup.msi').includes('executable-path'));
  assert.ok(flags('http://cdn.test/tool.ps1?dl=1').includes('executable-path'));
  assert.ok(flags('http://cdn.test/photos.rar').includes('archive-path'));
  assert.ok(flags('https://bit.ly/3xYz').includes('shortener'));
  assert.ok(flags('cutt.example/abc').includes('shortener'));
});

test('internal hosts and private addresses only weakly flagged', () => {
  const judged = extractUrls('http://10.20.30.40:9000/x and https://wiki.corp.test:8443/p').map(
    judgeUrl,
  );
  for (const j of judged) for (const f of j.findings) assert.equal(f.strength, 'weak', j.url);
});

test('recognises look-alikes: confusables, one-edit typos, embedded brands, IDN', () => {
  assert.equal(skeleton('g00gle'), 'google');
  assert.equal(skeleton('rnicrosoft'), 'microsoft');
  assert.ok(
    oneEdit('paypal', 'paypa1') && oneEdit('amazon', 'amazom') && oneEdit('github', 'gihtub'),
  );
  assert.ok(!oneEdit('slack', 'slack'));
  assert.ok(flags('https://paypa1.com/login').includes('lookalike'));
  assert.ok(flags('https://netfilx.com/').includes('typo'));
  assert.ok(flags('https://secure-dropbox-files.test/').includes('brand-embedded'));
  assert.ok(flags('https://аpple.com/id').includes('idn'));
  assert.ok(flags('http://xn--pple-43d.com/').includes('idn'));
});

test('real brand domains and ordinary sites are clean', () => {
  assert.deepEqual(
    flags('https://www.paypal.com/ https://mail.google.com/ https://github.com/a/b.js'),
    ['executable-path'],
  );
  const [gh] = extractUrls('https://github.com/a/b.js').map(judgeUrl);
  assert.equal(gh?.findings[0]?.strength, 'weak');
  assert.deepEqual(flags('https://en.wikipedia.org/wiki/XMPP https://www.bbc.co.uk/news'), []);
});

test('dangerous and legacy IM schemes', () => {
  assert.deepEqual(flags('javascript:alert(document.cookie)'), ['dangerous-scheme']);
  assert.deepEqual(flags('data:text/html;base64,PHNjcmlwdD4='), ['dangerous-scheme']);
  assert.deepEqual(flags('file:///etc/passwd'), ['dangerous-scheme']);
  assert.deepEqual(flags('aim:goim?screenname=x&message=AAAA'), ['legacy-im-scheme']);
  const [call] = extractUrls('skype:alice?call').map(judgeUrl);
  assert.equal(call?.findings[0]?.strength, 'weak');
  const [odd] = extractUrls('skype:alice?call&video=%41%41').map(judgeUrl);
  assert.equal(odd?.findings[0]?.strength, 'strong');
});

test('programs behind percent-encoding or trailing dots, IPv6 literals and outside Windows shares', () => {
  assert.ok(flags('http://cdn.test/x%2Eexe').includes('executable-path'));
  assert.ok(flags('http://cdn.test/setup%2eexe.').includes('executable-path'));
  assert.ok(flags('http://cdn.test/download.php?id=7&file=setup.exe').includes('executable-path'));
  assert.deepEqual(flags('http://cdn.test/view?file=report.pdf'), []);
  assert.deepEqual(flags('http://[2001:db8::7]:8180/x'), ['ip-literal', 'odd-port']);
  assert.deepEqual(flags('\\\\203.0.113.9\\share\\notes.txt'), ['unc-external']);
  assert.deepEqual(flags('open \\\\files.attacker.example\\pub\\a.lnk now'), ['unc-external']);
  // Shares on the office network are everyday business.
  assert.deepEqual(flags('the deck is on \\\\fileserver\\sales\\q3.pptx'), []);
  assert.deepEqual(flags('\\\\10.0.0.12\\scans\\'), []);
});
