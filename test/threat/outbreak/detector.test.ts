import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractArtefacts } from '../../../src/threat/outbreak/artefacts.ts';
import { ArtefactBlocklist } from '../../../src/threat/outbreak/blocklist.ts';
import {
  DEFAULT_OUTBREAK_SETTINGS,
  OutbreakDetector,
} from '../../../src/threat/outbreak/detector.ts';

const setup = () => {
  const blocklist = new ArtefactBlocklist();
  return { blocklist, detector: new OutbreakDetector(DEFAULT_OUTBREAK_SETTINGS, blocklist) };
};

/** Sends `text` from `sender` to recipients r0..r(n-1); returns each copy's judgement. */
function send(
  d: OutbreakDetector,
  sender: string,
  text: string,
  n: number,
  opts: { stopped?: boolean; t0?: number; step?: number; offset?: number } = {},
) {
  const artefacts = extractArtefacts({ text });
  return Array.from({ length: n }, (_, i) => {
    const now = (opts.t0 ?? 0) + i * (opts.step ?? 1000);
    const fanout = d.track(sender, `r${i + (opts.offset ?? 0)}@x`, artefacts, now);
    return { fanout, ...d.judge(sender, artefacts, opts.stopped ?? false, now) };
  });
}

test('a suspicious link to 6 people within a minute: copies 1-5 pass, the 6th quarantines', () => {
  const { detector } = setup();
  const copies = send(detector, 'a@x', 'lol http://192.0.2.7:8180/', 7);
  assert.deepEqual(
    copies.map((c) => c.fanout),
    [1, 2, 3, 4, 5, 6, 7],
  );
  assert.ok(copies.slice(0, 5).every((c) => c.stop === undefined));
  assert.equal(copies[5]!.stop?.kind, 'fanout');
  assert.equal(
    copies[5]!.stop?.kind === 'fanout' && copies[5]!.stop.artefact.key,
    'url:http://192.0.2.7:8180/',
  );
  assert.equal(copies[6]!.stop?.kind, 'quarantined');
});

test('re-worded lures with the same link still count as one artefact', () => {
  const { detector } = setup();
  const lures = ['lol', 'wow look', 'haha check this', 'omg', 'u seen this?', 'hey!'];
  const stops = lures.map((lure, i) => {
    const artefacts = extractArtefacts({ text: `${lure} http://0xc0000207:8180/` });
    detector.track('a@x', `r${i}@x`, artefacts, i);
    return detector.judge('a@x', artefacts, false, i).stop?.kind;
  });
  assert.deepEqual(stops, [undefined, undefined, undefined, undefined, undefined, 'fanout']);
});

test('ordinary broadcasts only count: text, internal, well-known or defanged links to many', () => {
  const { detector } = setup();
  for (const text of [
    'meeting moved to 3pm',
    'New expense policy is live: https://intranet.corp.example/policies/expenses',
    'slides: https://docs.google.com/presentation/d/1x/edit',
    'SOC: blocking hxxp://192.0.2.77:8180/ at the proxy, do not open it',
  ]) {
    const copies = send(detector, `boss-${text.length}@x`, text, 40, { step: 100 });
    assert.equal(copies.at(-1)!.fanout, 40, 'the fan-out is still reported to the classifier');
    assert.ok(
      copies.every((c) => c.stop === undefined),
      text,
    );
  }
});

test('a link to an unknown outside host fanned out quarantines, even a clean-looking one', () => {
  const { detector } = setup();
  const copies = send(detector, 'a@x', 'haha look https://share-moments.net/p/x7k2?ref=4', 6);
  assert.equal(copies[5]!.stop?.kind, 'fanout');
});

test('a message the engine holds from its first copy counts as suspicious: spam to many quarantines', () => {
  const { detector } = setup();
  const copies = send(detector, 's@x', 'cheap loans, no checks, apply today', 6, { stopped: true });
  assert.equal(copies[5]!.stop?.kind, 'fanout');
});

test('the window slides: 6 copies spread over more than W seconds pass', () => {
  const { detector } = setup();
  const copies = send(detector, 'a@x', 'lol http://192.0.2.7:8180/', 12, { step: 15_000 });
  assert.ok(copies.every((c) => c.stop === undefined));
});

test('outbreak: a tainted link sent by M accounts is reported once, then blocked copies stop', () => {
  const { detector, blocklist } = setup();
  const link = 'http://192.0.2.7:8180/';
  assert.equal(send(detector, 'p0@x', `lol ${link}`, 6)[5]!.stop?.kind, 'fanout');
  assert.ok(detector.isTainted(`url:${link}`, 5000));
  const b = send(detector, 'b@x', `wow ${link}`, 1, { t0: 10_000 })[0]!;
  assert.deepEqual(b.outbreaks, []);
  assert.equal(b.stop?.kind, 'tainted', 'the next hop is refused before the block');
  const c = send(detector, 'c@x', `haha ${link}`, 1, { t0: 20_000 })[0]!;
  assert.deepEqual(
    c.outbreaks.map((o) => [o.artefact.key, o.accounts]),
    [
      [`url:${link}`, 3],
      ['domain:192.0.2.7', 3],
    ],
  );
  blocklist.add({ kind: 'url', value: link, reason: 'worm', source: 'outbreak', createdAt: 0 });
  const d = send(detector, 'd@x', `yo ${link}`, 1, { t0: 30_000 })[0]!;
  assert.equal(d.stop?.kind, 'blocked');
  assert.deepEqual(d.outbreaks, []);
});

test('no outbreak without a taint: three colleagues sharing one shortened link is normal', () => {
  const { detector } = setup();
  for (const who of ['a@x', 'b@x', 'c@x', 'd@x']) {
    const [copy] = send(detector, who, 'standup notes https://tinyurl.com/notes42', 1);
    assert.deepEqual(copy!.outbreaks, []);
  }
});

test('release forgets the counts: the account starts afresh (the link stays suspect)', () => {
  const { detector } = setup();
  send(detector, 'a@x', 'lol http://192.0.2.7:8180/', 6);
  detector.release('a@x');
  const again = send(detector, 'a@x', 'the report http://reports.example.net/q3', 5);
  assert.ok(again.every((c) => c.stop === undefined));
  assert.equal(send(detector, 'a@x', 'lol http://192.0.2.7:8180/', 1)[0]!.stop?.kind, 'tainted');
});

test('a taint wears off after the outbreak window', () => {
  const { detector } = setup();
  send(detector, 'a@x', 'lol http://192.0.2.7:8180/', 6);
  const day = DEFAULT_OUTBREAK_SETTINGS.outbreakWindowMs;
  const later = send(detector, 'b@x', 'lol http://192.0.2.7:8180/', 1, { t0: day + 10_000 });
  assert.equal(later[0]!.stop, undefined);
});
