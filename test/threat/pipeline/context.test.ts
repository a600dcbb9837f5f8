import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shareGroup } from '../../../src/threat/pipeline/context.ts';
import { FanoutCounter, normaliseText } from '../../../src/threat/pipeline/fanout.ts';

test('fan-out counts distinct recipients of the same text within the window', () => {
  const f = new FanoutCounter(60_000);
  const t0 = 1_000_000;
  assert.equal(f.note('a@x', 'look at this http://e.example/1', 'b@x', t0), 1);
  assert.equal(
    f.note('a@x', 'look at this http://e.example/1', 'b@x', t0 + 1),
    1,
    'same recipient',
  );
  assert.equal(
    f.note('a@x', 'LOOK  at this http://e.example/2', 'c@x', t0 + 30_000),
    2,
    'case, spaces, digits',
  );
  assert.equal(f.note('a@x', 'something else', 'd@x', t0 + 3), 1, 'another text');
  assert.equal(
    f.note('z@x', 'look at this http://e.example/1', 'd@x', t0 + 4),
    1,
    'another sender',
  );
  assert.equal(
    f.note('a@x', 'look at this http://e.example/1', 'e@x', t0 + 61_000),
    2,
    'b expired',
  );
  assert.equal(f.note('a@x', '', 'f@x', t0), 1, 'bodyless messages are not copies');
});

test('normalised text ignores invisible characters and full-width forms', () => {
  assert.equal(normaliseText('Ｈｉ\u200b there  7'), normaliseText('hi there 9'));
});

test('shared groups: members by JID or by whole domain, only within one group', () => {
  const groups = { sales: ['ann@corp.example', 'bob@corp.example'], all: ['staff.example'] };
  assert.equal(shareGroup(groups, 'ann@corp.example', 'bob@corp.example'), true);
  assert.equal(shareGroup(groups, 'x@staff.example', 'y@staff.example'), true);
  assert.equal(shareGroup(groups, 'ann@corp.example', 'x@staff.example'), false);
  assert.equal(shareGroup(groups, 'eve@corp.example', 'ann@corp.example'), false);
  assert.equal(shareGroup({}, 'ann@corp.example', 'bob@corp.example'), false);
});
