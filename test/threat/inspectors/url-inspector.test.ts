import assert from 'node:assert/strict';
import { test } from 'node:test';
import { urlInspector } from '../../../src/threat/inspectors/url-inspector.ts';

const friend = { senderIsContact: true, fanout: 1 };
const mass = { senderIsContact: true, fanout: 25 };
const stranger = { senderIsContact: false, fanout: 1 };
const act = (text: string, ctx = friend) => urlInspector.inspect({ text }, ctx)?.action ?? 'allow';

test('strong findings hold even between contacts', () => {
  assert.equal(act('look at this http://0xc6336414/'), 'hold');
  assert.equal(act('new build: www . dl-zone . test / patch.exe'), 'hold');
  assert.equal(act('my pics https://faceb00k.com/p'), 'hold');
});

test('medium findings label between contacts and hold for strangers and mass sends', () => {
  const text = 'new pics at http://198.51.100.70:8000/';
  assert.equal(act(text), 'label');
  assert.equal(act(text, stranger), 'hold');
  assert.equal(act(text, mass), 'hold');
  assert.equal(act('short link t.co/abc', mass), 'hold');
});

test('clean or internal links pass', () => {
  assert.equal(act('PR is https://gitlab.com/team/app/-/merge_requests/12'), 'allow');
  assert.equal(act('minio is at http://10.0.4.2:9000/bucket', friend), 'allow');
  assert.equal(act('no links here, just chat'), 'allow');
});

test('a defanged link quoted by a colleague is only labelled', () => {
  assert.equal(act('blocking hxxp://203.0.113.66/ at the proxy now'), 'label');
});

test('links that run code are refused as T9, even from a contact', () => {
  const v = urlInspector.inspect({ text: 'click vbscript:msgbox(1)' }, friend);
  assert.equal(v?.action, 'refuse');
  assert.equal(v?.threat, 'T9');
});
