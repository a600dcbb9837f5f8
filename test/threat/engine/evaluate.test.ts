import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateMessage } from '../../../src/threat/engine/evaluate.ts';
import { DEFAULT_POLICY, type ThreatPolicy } from '../../../src/threat/engine/policy.ts';

const friend = { senderIsContact: true, fanout: 1 };
const stranger = { senderIsContact: false, fanout: 1 };

test('ordinary chat between contacts is allowed', () => {
  for (const text of [
    'can we move the standup to 10:30 tomorrow?',
    'thanks, the new build works on my laptop',
    '明天上午十點開會，記得帶筆電',
    'chiều nay anh gửi báo cáo quý cho em nhé',
  ]) {
    assert.equal(evaluateMessage({ text }, friend).verdict.action, 'allow', text);
  }
});

test('a disguised executable link from a contact to many people is held', () => {
  const { verdict, verdicts } = evaluateMessage(
    { text: 'haha you have to watch this hxxp://198.51.100.7:8088/clip.scr' },
    { senderIsContact: true, fanout: 40 },
  );
  assert.equal(verdict.action, 'hold');
  assert.ok(verdicts.some((v) => v.rule === 'url'));
  assert.ok(verdict.reason.length > 0);
});

test('one verdict per inspector that acted; the combination is the most severe', () => {
  const { verdict, verdicts } = evaluateMessage(
    { text: 'open \u202Egnp.exe now http://203.0.113.9/run.exe' },
    stranger,
  );
  assert.equal(verdict.action, 'refuse');
  const rules = verdicts.map((v) => v.rule);
  assert.ok(rules.includes('content.bidi'));
  assert.ok(rules.includes('url'));
});

test('monitor mode reports what enforce would do but lets the message through', () => {
  const policy: ThreatPolicy = { ...DEFAULT_POLICY, defaultMode: 'monitor' };
  const msg = { text: 'wow check it out http://0xcb007109/setup.exe' };
  const ctx = { senderIsContact: true, fanout: 30 };
  assert.equal(evaluateMessage(msg, ctx).verdict.action, 'hold');
  const { verdict, verdicts } = evaluateMessage(msg, ctx, policy);
  assert.equal(verdict.action, 'allow');
  const url = verdicts.find((v) => v.rule === 'url');
  assert.equal(url?.action, 'allow');
  assert.equal(url?.evidence.monitor, true);
  assert.equal(url?.evidence.wouldBe, 'hold');
});

test('a rule that is off is not run; others still act', () => {
  const policy: ThreatPolicy = { ...DEFAULT_POLICY, modes: { url: 'off', classifier: 'off' } };
  const { verdicts } = evaluateMessage(
    { text: 'look http://203.0.113.50/a.exe', fileName: 'game.exe' },
    { senderIsContact: true, fanout: 20 },
    policy,
  );
  assert.ok(!verdicts.some((v) => v.rule === 'url' || v.rule === 'classifier'));
  assert.ok(verdicts.some((v) => v.rule.startsWith('file-offer')));
});

test('pathological bodies are judged in bounded time', () => {
  for (const text of ['a.'.repeat(30000), 'x-'.repeat(30000), `${'ab:cd1 '.repeat(10000)}`]) {
    const started = performance.now();
    evaluateMessage({ text }, stranger);
    assert.ok(performance.now() - started < 1000, `${text.slice(0, 10)}… took too long`);
  }
});
