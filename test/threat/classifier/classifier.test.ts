import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifierInspector } from '../../../src/threat/classifier/classifier-inspector.ts';
import { type CorpusItem, foldOf, parseCorpus } from '../../../src/threat/classifier/corpus.ts';
import { extractFeatures, textShape } from '../../../src/threat/classifier/features.ts';
import { scoreFeatures, shippedModel } from '../../../src/threat/classifier/model.ts';
import { chooseThresholds, featurize, trainModel } from '../../../src/threat/classifier/train.ts';
import { DEFAULT_POLICY } from '../../../src/threat/engine/policy.ts';

test('the text shape hides digits, links and addresses', () => {
  assert.equal(
    textShape('Call 555-0199 or see http://a.test/x from 198.51.100.2'),
    'call 000-0000 or see ⟨url⟩ from ⟨ip⟩',
  );
});

test('features include context and rule findings', () => {
  const f = extractFeatures(
    { text: 'lol http://198.51.100.9:8111/x', fileName: 'x.exe' },
    { senderIsContact: false, fanout: 50 },
  );
  for (const k of [
    'ctx:stranger',
    'ctx:mass-send',
    'file:executable',
    'url:ip-literal',
    'url:odd-port',
    'url:from-stranger',
  ]) {
    assert.ok(f.has(k), k);
  }
});

test('the shipped model separates obvious cases and explains its score', () => {
  const model = shippedModel();
  const inspector = classifierInspector(model, DEFAULT_POLICY);
  const spam = inspector.inspect(
    {
      text: 'URGENT: your account will be suspended, verify your password and OTP now at verify-login.test',
    },
    { senderIsContact: false, fanout: 90 },
  );
  assert.equal(spam?.action, 'hold');
  assert.ok((spam?.score ?? 0) >= model.thresholds.hold);
  const top = spam?.evidence.top as { feature: string; contribution: number }[];
  assert.ok(top.length > 0 && top.every((c) => c.contribution > 0));
  assert.equal(
    inspector.inspect({ text: 'see you at the 3pm review' }, { senderIsContact: true, fanout: 1 }),
    undefined,
  );
});

test('training is deterministic and learns a toy split', () => {
  const lines = [
    ...['win cash now', 'free prize claim', 'cheap pills offer', 'win free cash prize'].map(
      (t, i) => ({
        id: `s${i}`,
        text: t,
        label: 'spim',
        context: { sender_is_contact: false, fanout: 50 },
      }),
    ),
    ...['meeting at noon', 'report is done', 'see you at lunch', 'noon meeting moved'].map(
      (t, i) => ({
        id: `h${i}`,
        text: t,
        label: 'ham',
        context: { sender_is_contact: true, fanout: 1 },
      }),
    ),
  ];
  const items: CorpusItem[] = parseCorpus(lines.map((l) => JSON.stringify(l)).join('\n'));
  const opts = { l2: 0.001, steps: 100, rate: 0.5, minDocFreq: 1 };
  const a = trainModel(items, featurize(items), opts);
  const b = trainModel(items, featurize(items), opts);
  assert.deepEqual(a, b);
  const model = { version: 1 as const, ...a, thresholds: { hold: 0.5, label: 0.3 }, meta: {} };
  const s = (text: string, contact: boolean) =>
    scoreFeatures(
      model,
      extractFeatures({ text }, { senderIsContact: contact, fanout: contact ? 1 : 50 }),
    ).score;
  assert.ok(s('claim your free cash', false) > 0.5);
  assert.ok(s('lunch meeting at noon', true) < 0.5);
});

test('thresholds follow the ham score quantiles; folds are stable', () => {
  const ham = Array.from({ length: 200 }, (_, i) => i / 200);
  const t = chooseThresholds(ham, 0.01, 0.05);
  assert.ok(t.hold >= 0.98 && t.hold <= 0.99);
  assert.ok(t.label >= 0.94 && t.label <= t.hold);
  assert.equal(foldOf('dev-0001', 5), foldOf('dev-0001', 5));
});

test('the classifier explains itself in plain words', () => {
  const v = classifierInspector(shippedModel(), DEFAULT_POLICY).inspect(
    { text: 'Congratulations, you won a free iPhone! Claim it now at win-phone.test' },
    { senderIsContact: false, fanout: 120 },
  );
  assert.ok(v);
  assert.doesNotMatch(v.reason, /\b(?:c|w|lex|ctx):/);
  assert.match(v.reason, /score \d\.\d\d/);
});

test('a contact’s next line in an ongoing chat is not scored, unless it has a link or data', () => {
  // A model that holds whatever it scores shows which messages it is asked about.
  const classifier = classifierInspector({ ...shippedModel(), bias: 20 }, DEFAULT_POLICY);
  const line = 'ok, see you at the standup tomorrow';
  const ongoing = { senderIsContact: true, fanout: 1, firstInConversation: false };
  assert.equal(classifier.inspect({ text: line }, ongoing), undefined);
  const scored = (text: string, ctx: object, fileName?: string) =>
    classifier.inspect(fileName ? { text, fileName } : { text }, { ...ongoing, ...ctx })?.action;
  assert.equal(scored(line, { firstInConversation: undefined }), 'hold'); // unknown counts as first
  assert.equal(scored(line, { firstInConversation: true }), 'hold');
  assert.equal(scored(line, { senderIsContact: false }), 'hold');
  assert.equal(scored(line, { fanout: 2 }), 'hold');
  assert.equal(scored(line, {}, 'notes.pdf'), 'hold');
  assert.equal(scored(`${line} hxxps://secure-login[.]test/verify`, {}), 'hold');
  assert.equal(scored(`${line} www dot example dot com`, {}), 'hold');
  assert.equal(scored(`${line}, box 10.1.2.3 has 445 open`, {}), 'hold');
  assert.equal(scored(`${line}, pw: Hunter2!x`, {}), 'hold');
});
