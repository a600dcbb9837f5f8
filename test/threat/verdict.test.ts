import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combineVerdicts, isStopped, type Verdict } from '../../src/threat/verdict.ts';

const v = (action: Verdict['action'], rule: string, reason: string): Verdict => ({
  action,
  rule,
  reason,
  evidence: { from: rule },
});

test('no verdicts, or only allows, combine to allow', () => {
  assert.equal(combineVerdicts([]).action, 'allow');
  assert.equal(combineVerdicts([v('allow', 'a', 'x')]).action, 'allow');
});

test('the most severe action wins and every reason is kept', () => {
  const out = combineVerdicts([
    v('label', 'url', 'Odd link.'),
    { ...v('refuse', 'content.bidi', 'Reversed text.'), threat: 'T9' },
    v('hold', 'dlp.secret', 'A key.'),
  ]);
  assert.equal(out.action, 'refuse');
  assert.equal(out.rule, 'content.bidi');
  assert.equal(out.threat, 'T9');
  assert.match(out.reason, /Reversed text\./);
  assert.match(out.reason, /A key\./);
  assert.match(out.reason, /Odd link\./);
  assert.deepEqual(out.evidence.rules, ['content.bidi', 'dlp.secret', 'url']);
});

test('quarantine outranks refuse; hold, refuse and quarantine count as stopped', () => {
  assert.equal(
    combineVerdicts([v('refuse', 'a', ''), v('quarantine', 'b', '')]).action,
    'quarantine',
  );
  assert.deepEqual((['allow', 'label', 'hold', 'refuse', 'quarantine'] as const).map(isStopped), [
    false,
    false,
    true,
    true,
    true,
  ]);
});
