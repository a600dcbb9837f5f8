import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SaslprepError, saslprep } from '../../src/auth/saslprep.ts';

describe('saslprep', () => {
  it('passes the RFC 4013 §3 examples', () => {
    assert.equal(saslprep('I\u00ADX'), 'IX'); // soft hyphen mapped to nothing
    assert.equal(saslprep('user'), 'user');
    assert.equal(saslprep('USER'), 'USER'); // no case folding
    assert.equal(saslprep('\u00AA'), 'a'); // NFKC
    assert.equal(saslprep('\u2168'), 'IX'); // NFKC
    assert.throws(() => saslprep('\u0007'), SaslprepError); // prohibited
    assert.throws(() => saslprep('\u0627\u0031'), SaslprepError); // bidi rule
  });

  it('maps non-ASCII spaces to U+0020 and removes B.1 characters', () => {
    assert.equal(saslprep('a\u00A0b\u3000c\u2003d'), 'a b c d');
    assert.equal(saslprep('a\u200Bb'), 'a b'); // in C.1.2 and B.1: space wins
    assert.equal(saslprep('pa\uFEFFss\u180Bw\uFE0Fd\u034F'), 'passwd');
  });

  it('applies NFKC', () => {
    assert.equal(saslprep('\uFB01x'), 'fix');
    assert.equal(saslprep('\uFF21\uFF22\uFF23'), 'ABC');
    assert.equal(saslprep('e\u0301'), '\u00E9');
  });

  it('leaves printable ASCII (including spaces) alone', () => {
    assert.equal(saslprep(' p@ss w0rd!~ '), ' p@ss w0rd!~ ');
    assert.equal(saslprep(''), '');
  });

  it('refuses prohibited code points', () => {
    for (const s of [
      'a\u0000b', // C.2.1
      'a\u007Fb', // C.2.1
      'a\u0085b', // C.2.2
      'a\u2028b', // C.2.2
      'a\uE000b', // C.3 private use
      'a\u{F0000}b', // C.3
      'a\uFDD0b', // C.4 non-character
      'a\uFFFFb', // C.4
      'a\u{10FFFF}b', // C.4
      'a\uD800b', // C.5 lone surrogate
      'a\uDC00', // C.5
      'a\uFFFDb', // C.6
      'a\u2FF0b', // C.7
      'a\u200Eb', // C.8
      'a\u202Eb', // C.8 (RLO)
      'a\u{E0001}b', // C.9 tagging
      'a\u{E0041}b', // C.9
    ]) {
      assert.throws(() => saslprep(s), SaslprepError, JSON.stringify(s));
    }
  });

  it('applies the bidi rule', () => {
    assert.equal(saslprep('\u0627\u0628'), '\u0627\u0628');
    assert.equal(saslprep('\u05D0 1 \u05D1'), '\u05D0 1 \u05D1'); // digits are not LCat
    assert.throws(() => saslprep('\u0627a\u0628'), SaslprepError); // mixes R and L
    assert.throws(() => saslprep('1\u0627'), SaslprepError); // must start with RandAL
    assert.throws(() => saslprep('\u05D0!'), SaslprepError); // must end with RandAL
  });

  it('refuses unassigned code points only for stored strings', () => {
    for (const s of ['\u0221', '\u{1F600}']) {
      assert.throws(() => saslprep(s), SaslprepError);
      assert.equal(saslprep(s, { allowUnassigned: true }), s);
    }
  });

  it('is idempotent and never throws anything but SaslprepError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (s) => {
        try {
          const once = saslprep(s, { allowUnassigned: true });
          assert.equal(saslprep(once, { allowUnassigned: true }), once);
        } catch (err) {
          assert.ok(err instanceof SaslprepError, String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
