import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_POLICY } from '../../../src/threat/engine/policy.ts';
import { contentGuard } from '../../../src/threat/inspectors/content-guard.ts';

const guard = contentGuard(DEFAULT_POLICY.contentGuard);
const ctx = { senderIsContact: true, fanout: 1 };
const check = (text: string) => guard.inspect({ text }, ctx);

test('direction overrides are refused as T9', () => {
  const v = check('see the file my\u202Efdp.exe');
  assert.equal(v?.action, 'refuse');
  assert.equal(v?.threat, 'T9');
  assert.equal(v?.rule, 'content.bidi');
});

test('zero-width runs, zalgo, emoji walls and giant words are refused', () => {
  assert.equal(check(`hi\u200b\u200b\u200b\u200bthere`)?.rule, 'content.zero-width');
  assert.equal(check(`h${'\u0301\u0308\u0327'.repeat(20)}ello`)?.rule, 'content.combining');
  assert.equal(check('😀'.repeat(300))?.rule, 'content.emoji');
  assert.equal(check('A'.repeat(5000))?.rule, 'content.long-word');
});

test('ordinary text in many scripts passes', () => {
  for (const text of [
    'Chúc mừng năm mới, chúc cả nhà sức khỏe và hạnh phúc!',
    '謝謝大家今天的配合 🙏🙏',
    'great job team 🎉🎉🎉 drinks on me',
    'Schöne Grüße aus München',
    'one\u200bzero-width here is fine',
    'https://example.com/'.repeat(20),
  ]) {
    assert.equal(check(text), undefined, text);
  }
});
