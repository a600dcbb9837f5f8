import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BANDS,
  fingerprintTokens,
  minhash,
  shingles,
  similarity,
  textFingerprint,
} from '../../../src/threat/outbreak/fingerprint.ts';

const shared = (a: string, b: string): number => {
  const fb = new Set(textFingerprint(b));
  return textFingerprint(a).filter((k) => fb.has(k)).length;
};

test('tokens: links dropped, digits folded, unspaced scripts one character each', () => {
  assert.deepEqual(fingerprintTokens('看这个lol http://192.0.2.7:8180/ at 3pm!'), [
    '看',
    '这',
    '个',
    'lol',
    'at',
    '0pm',
  ]);
  assert.deepEqual(fingerprintTokens('hxxp://evil[.]example/x'), []);
});

test('the same text, re-spaced, re-cased or with other numbers, has the same fingerprint', () => {
  const a = textFingerprint('Meeting moved to 3pm, room 4');
  assert.equal(a.length, BANDS);
  assert.deepEqual(textFingerprint('meeting  MOVED to 4pm, room 12'), a);
});

test('near-duplicates share bands; unrelated messages do not', () => {
  const base =
    'Congratulations! You have won a free iPhone, claim your prize today before it expires';
  assert.ok(shared(base, `${base} ref xk29`) > 0, 'a random suffix does not hide a copy');
  assert.ok(
    shared(
      base,
      'Congratulations! You have won a free iPhone, claim your prize now before it expires',
    ) > 0,
  );
  assert.equal(shared(base, 'Can you review my pull request before the standup tomorrow?'), 0);
  assert.equal(shared('lol', 'wow'), 0);
});

test('MinHash similarity estimates the Jaccard similarity of the shingle sets', () => {
  const a = shingles(fingerprintTokens('a b c d e f g h i j k l m n o p q r s t'));
  const b = shingles(fingerprintTokens('a b c d e f g h i j k l m n o p q r s x'));
  const jaccard = 18 / 20;
  assert.ok(Math.abs(similarity(minhash(a)!, minhash(b)!) - jaccard) < 0.15);
  assert.equal(minhash(new Set()), undefined);
  assert.deepEqual(textFingerprint('https://example.com/only-a-link'), []);
});
