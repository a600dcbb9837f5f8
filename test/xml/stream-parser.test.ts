import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { XmlElement } from '../../src/xml/element.ts';
import {
  type XmlLimits,
  XmlStreamError,
  type XmlStreamErrorCondition,
  XmlStreamParser,
} from '../../src/xml/stream-parser.ts';

const STREAM_NS = 'http://etherx.jabber.org/streams';
const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${STREAM_NS}' to='localhost' version='1.0'>`;

const LIMITS: XmlLimits = {
  maxStanzaBytes: 4096,
  maxDepth: 8,
  maxAttributes: 6,
  maxTextBytes: 1024,
};

interface Run {
  header: { name: string; uri: string; attrs: Record<string, string> } | undefined;
  stanzas: XmlElement[];
  ended: boolean;
  error: XmlStreamError | undefined;
}

/** Feeds chunks (strings are UTF-8 encoded) and records what the parser reported. */
function parse(chunks: (string | Uint8Array)[], limits: Partial<XmlLimits> = {}): Run {
  const run: Run = { header: undefined, stanzas: [], ended: false, error: undefined };
  const parser = new XmlStreamParser(
    { ...LIMITS, ...limits },
    {
      onStreamStart: (name, uri, attrs) => {
        run.header = { name, uri, attrs };
      },
      onStanza: (el) => run.stanzas.push(el),
      onStreamEnd: () => {
        run.ended = true;
      },
    },
  );
  try {
    for (const c of chunks) parser.write(typeof c === 'string' ? Buffer.from(c) : c);
  } catch (err) {
    if (!(err instanceof XmlStreamError)) throw err;
    run.error = err;
  }
  return run;
}

function assertFails(run: Run, condition: XmlStreamErrorCondition): void {
  assert.ok(run.error, `expected ${condition}, the parser accepted the input`);
  assert.equal(run.error.condition, condition, run.error.message);
}

describe('XmlStreamParser: stream and stanzas', () => {
  it('reports the stream header with its namespace and attributes, then stanzas, then the end', () => {
    const run = parse([
      HEADER,
      "<message to='bob@localhost' type='chat'><body>hi</body></message>",
      '<presence/>',
      '</stream:stream>',
    ]);
    assert.equal(run.error, undefined);
    assert.equal(run.header?.name, 'stream:stream');
    assert.equal(run.header?.uri, STREAM_NS);
    assert.equal(run.header?.attrs.xmlns, 'jabber:client');
    assert.equal(run.header?.attrs.to, 'localhost');
    assert.equal(run.header?.attrs.version, '1.0');
    assert.deepEqual(
      run.stanzas.map((s) => s.name),
      ['message', 'presence'],
    );
    const msg = run.stanzas[0]!;
    assert.equal(msg.xmlns, 'jabber:client');
    assert.equal(msg.attrs.to, 'bob@localhost');
    assert.equal(msg.getChildText('body'), 'hi');
    assert.equal(run.ended, true);
  });

  it('parses a stream fed one byte at a time', () => {
    const text = `${HEADER}<message><body>héllo €uro 😀</body></message>`;
    const bytes = Buffer.from(text);
    const run = parse([...bytes].map((b) => new Uint8Array([b])));
    assert.equal(run.error, undefined);
    assert.equal(run.stanzas[0]?.getChildText('body'), 'héllo €uro 😀');
  });

  it('joins a multi-byte character split across chunks', () => {
    const euro = Buffer.from('€'); // e2 82 ac
    const run = parse([
      `${HEADER}<message><body>`,
      euro.subarray(0, 1),
      euro.subarray(1, 2),
      Buffer.concat([euro.subarray(2), Buffer.from('</body></message>')]),
    ]);
    assert.equal(run.error, undefined);
    assert.equal(run.stanzas[0]?.getChildText('body'), '€');
  });

  it('resolves prefixes: a prefixed stanza gets its namespace, children keep theirs', () => {
    const run = parse([
      HEADER,
      "<c:message xmlns:c='jabber:client' to='a@localhost'><body>x</body>",
      "<p:ping xmlns:p='urn:xmpp:ping'/><q xmlns='urn:example:q'><r/></q></c:message>",
      '<stream:features/>',
    ]);
    assert.equal(run.error, undefined);
    const [msg, features] = run.stanzas;
    assert.equal(msg?.name, 'message');
    assert.equal(msg?.xmlns, 'jabber:client');
    assert.equal(msg?.getChild('ping')?.xmlns, 'urn:xmpp:ping');
    const q = msg?.getChild('q', 'urn:example:q');
    assert.ok(q, 'child in its own default namespace');
    // A child in its parent's namespace carries no xmlns of its own.
    assert.equal(q.getChild('r')?.xmlns, undefined);
    assert.equal(features?.name, 'features');
    assert.equal(features?.xmlns, STREAM_NS);
  });

  it('re-serializes a namespaced attribute with its own declaration', () => {
    // Stanzas are forwarded to other clients as text: an attribute prefix declared only in
    // the sender's stream header would be unbound there and break the recipient's stream.
    const run = parse([
      HEADER.replace("version='1.0'>", "version='1.0' xmlns:evil='urn:example:evil'>"),
      "<message to='b@localhost' evil:attr='1'><body>x</body></message>",
    ]);
    assert.equal(run.error, undefined);
    const serialized = run.stanzas[0]!.toString();
    const again = parse([HEADER, serialized]);
    assert.equal(again.error, undefined, `${serialized}: ${again.error?.message}`);
    assert.equal(again.stanzas[0]?.attrs['evil:attr'], '1');
    assert.equal(again.stanzas[0]?.attrs['xmlns:evil'], 'urn:example:evil');
  });

  it('refuses an unbound prefix as not-well-formed', () => {
    assertFails(parse([HEADER, '<message><x:y/></message>']), 'not-well-formed');
  });

  it('accepts the five predefined entities and character references, decoded', () => {
    const run = parse([
      HEADER,
      "<message a='&quot;&apos;'><body>&lt;&gt;&amp;&#65;&#x42;</body></message>",
    ]);
    assert.equal(run.error, undefined);
    assert.equal(run.stanzas[0]?.attrs.a, `"'`);
    assert.equal(run.stanzas[0]?.getChildText('body'), '<>&AB');
  });

  it('refuses any other entity', () => {
    assertFails(parse([HEADER, '<message><body>&lol;</body></message>']), 'not-well-formed');
    assertFails(parse([HEADER, '<message><body>&nbsp;</body></message>']), 'not-well-formed');
  });

  it('accepts CDATA sections as text', () => {
    const run = parse([HEADER, '<message><body><![CDATA[<not a tag>]]></body></message>']);
    assert.equal(run.error, undefined);
    assert.equal(run.stanzas[0]?.getChildText('body'), '<not a tag>');
  });

  it('allows whitespace keepalives between stanzas but not character data', () => {
    const ok = parse([HEADER, ' \n ', '<presence/>', '\t ', '<presence/>']);
    assert.equal(ok.error, undefined);
    assert.equal(ok.stanzas.length, 2);
    assertFails(parse([HEADER, 'junk<presence/>']), 'not-well-formed');
  });

  it('stops reporting after the stream closed', () => {
    const run = parse([HEADER, '</stream:stream>', '<presence/>']);
    assert.equal(run.ended, true);
    assert.equal(run.stanzas.length, 0);
    assert.equal(run.error, undefined);
  });

  it('keeps failing once failed', () => {
    const parser = new XmlStreamParser(LIMITS, {
      onStreamStart: () => {},
      onStanza: () => {},
      onStreamEnd: () => {},
    });
    parser.write(Buffer.from(HEADER));
    assert.throws(() => parser.write(Buffer.from('<a><b></a>')), XmlStreamError);
    assert.throws(() => parser.write(Buffer.from('<presence/>')), XmlStreamError);
  });
});

describe('XmlStreamParser: restricted XML (RFC 6120 §11.1)', () => {
  it('refuses a DTD (billion laughs) with restricted-xml, before any entity expands', () => {
    const lol = [
      "<?xml version='1.0'?>",
      '<!DOCTYPE lolz [',
      ' <!ENTITY lol "lol">',
      ' <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">',
      ' <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">',
      ']>',
      HEADER.replace("<?xml version='1.0'?>", ''),
      '<message><body>&lol2;</body></message>',
    ].join('');
    const run = parse([lol]);
    assertFails(run, 'restricted-xml');
    assert.equal(run.stanzas.length, 0);
  });

  it('refuses a DTD inside the stream (not-well-formed or restricted-xml, never parsed)', () => {
    const run = parse([HEADER, '<!DOCTYPE x [<!ENTITY a "b">]><message>&a;</message>']);
    assert.ok(run.error);
    assert.ok(['restricted-xml', 'not-well-formed'].includes(run.error.condition));
    assert.equal(run.stanzas.length, 0);
  });

  it('refuses comments with restricted-xml', () => {
    assertFails(parse([HEADER, '<!-- hello -->']), 'restricted-xml');
    assertFails(parse([HEADER, '<message><!-- in a stanza --></message>']), 'restricted-xml');
  });

  it('refuses processing instructions with restricted-xml', () => {
    assertFails(parse([HEADER, "<?xml-stylesheet href='x'?>"]), 'restricted-xml');
    assertFails(parse([HEADER, '<message><?php echo 1; ?></message>']), 'restricted-xml');
  });

  it('refuses an encoding other than UTF-8 with unsupported-encoding', () => {
    assertFails(
      parse([`<?xml version='1.0' encoding='ISO-8859-1'?>${HEADER.slice(21)}`]),
      'unsupported-encoding',
    );
  });

  it('refuses invalid UTF-8 with not-well-formed', () => {
    assertFails(
      parse([`${HEADER}<message><body>`, new Uint8Array([0xc3, 0x28]), '</body></message>']),
      'not-well-formed',
    );
    // An overlong encoding of '<' and a lone continuation byte.
    assertFails(parse([HEADER, new Uint8Array([0xc0, 0xbc])]), 'not-well-formed');
    assertFails(parse([HEADER, new Uint8Array([0x80])]), 'not-well-formed');
    // UTF-16 surrogates encoded in UTF-8 (CESU) are not UTF-8.
    assertFails(parse([HEADER, new Uint8Array([0xed, 0xa0, 0x80])]), 'not-well-formed');
  });

  it('refuses characters XML forbids', () => {
    assertFails(parse([HEADER, '<message><body>\u0001</body></message>']), 'not-well-formed');
    assertFails(parse([HEADER, '<message><body>&#0;</body></message>']), 'not-well-formed');
  });

  it('refuses duplicate attributes, also through two prefixes for one namespace', () => {
    assertFails(parse([HEADER, "<message a='1' a='2'/>"]), 'not-well-formed');
    assertFails(
      parse([HEADER, "<message xmlns:p='urn:x' xmlns:q='urn:x' p:a='1' q:a='2'/>"]),
      'not-well-formed',
    );
  });
});

describe('XmlStreamParser: limits', () => {
  it('refuses a stanza larger than maxStanzaBytes, fed in small chunks', () => {
    const body = 'a'.repeat(5000);
    const stanza = `<message><body>${body}</body></message>`;
    const chunks = [HEADER];
    for (let i = 0; i < stanza.length; i += 500) chunks.push(stanza.slice(i, i + 500));
    const run = parse(chunks, { maxTextBytes: 100_000 });
    assertFails(run, 'policy-violation');
    assert.equal(run.stanzas.length, 0);
  });

  it('refuses an oversized stanza that arrives complete in one chunk, and never emits it', () => {
    const big = `<message><body>${'a'.repeat(900)}</body><body>${'b'.repeat(900)}</body></message>`;
    const run = parse([HEADER, big], { maxStanzaBytes: 1500 });
    assertFails(run, 'policy-violation');
    assert.equal(run.stanzas.length, 0, 'the oversized stanza was handed on before the error');
  });

  it('refuses an oversized stanza whose end lands in a later chunk', () => {
    // 16 KiB chunks (TLS records): the stanza is just over the limit and ends mid-chunk.
    const stanza = `<message><body>${'a'.repeat(4200)}</body></message>`;
    const run = parse([HEADER, stanza.slice(0, 4000), `${stanza.slice(4000)}<presence/>`], {
      maxStanzaBytes: 4096,
      maxTextBytes: 100_000,
    });
    assertFails(run, 'policy-violation');
    assert.equal(run.stanzas.length, 0);
  });

  it('accepts many small stanzas in one chunk however long the chunk is', () => {
    // Pipelined stanzas are each under the limit; their sum is not a stanza.
    const many = '<presence/>'.repeat(1000); // 11,000 characters
    const run = parse([HEADER + many], { maxStanzaBytes: 4096 });
    assert.equal(run.error, undefined, run.error?.message);
    assert.equal(run.stanzas.length, 1000);
  });

  it('does not count whitespace between stanzas towards the next stanza', () => {
    const run = parse(
      [HEADER, ...Array.from({ length: 20 }, () => `${' '.repeat(1100)}<presence/>`)],
      { maxStanzaBytes: 1024, maxTextBytes: 100_000 },
    );
    assert.equal(run.error, undefined, run.error?.message);
    assert.equal(run.stanzas.length, 20);
  });

  it('accepts a stanza exactly at the limit split across chunks', () => {
    const shell = '<message><body></body></message>';
    const stanza = `<message><body>${'a'.repeat(4096 - shell.length)}</body></message>`;
    assert.equal(stanza.length, 4096);
    const run = parse([HEADER, stanza.slice(0, 2000), stanza.slice(2000), '<presence/>'], {
      maxStanzaBytes: 4096,
      maxTextBytes: 100_000,
    });
    assert.equal(run.error, undefined, run.error?.message);
    assert.equal(run.stanzas.length, 2);
  });

  it('refuses nesting deeper than maxDepth, accepts maxDepth', () => {
    const nest = (n: number) => `${'<a>'.repeat(n)}${'</a>'.repeat(n)}`;
    const ok = parse([HEADER, nest(LIMITS.maxDepth)]);
    assert.equal(ok.error, undefined);
    assert.equal(ok.stanzas.length, 1);
    const bad = parse([HEADER, nest(LIMITS.maxDepth + 1)]);
    assertFails(bad, 'policy-violation');
    assert.equal(bad.stanzas.length, 0);
  });

  it('refuses deep nesting arriving one open tag per chunk', () => {
    const run = parse([HEADER, ...Array.from({ length: 10_000 }, () => '<a>')]);
    assertFails(run, 'policy-violation');
  });

  it('refuses more attributes than maxAttributes, accepts maxAttributes', () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}='v'`).join('');
    const ok = parse([HEADER, `<message${attrs(LIMITS.maxAttributes)}/>`]);
    assert.equal(ok.error, undefined);
    const bad = parse([HEADER, `<message${attrs(LIMITS.maxAttributes + 1)}/>`]);
    assertFails(bad, 'policy-violation');
    assert.equal(bad.stanzas.length, 0);
    // Deeper elements are counted too.
    assertFails(
      parse([HEADER, `<message><x${attrs(LIMITS.maxAttributes + 1)}/></message>`]),
      'policy-violation',
    );
  });

  it('refuses a text node longer than maxTextBytes', () => {
    const ok = parse([
      HEADER,
      `<message><body>${'t'.repeat(LIMITS.maxTextBytes)}</body></message>`,
    ]);
    assert.equal(ok.error, undefined);
    const bad = parse([
      HEADER,
      `<message><body>${'t'.repeat(LIMITS.maxTextBytes + 1)}</body></message>`,
    ]);
    assertFails(bad, 'policy-violation');
    assert.equal(bad.stanzas.length, 0);
  });

  it('bounds an attribute value that never ends', () => {
    const run = parse([
      HEADER,
      "<message a='",
      ...Array.from({ length: 20 }, () => 'x'.repeat(1000)),
    ]);
    assertFails(run, 'policy-violation');
  });

  it('bounds a stream header that never ends', () => {
    const run = parse([
      "<stream:stream xmlns='jabber:client' a='",
      ...Array.from({ length: 20 }, () => 'x'.repeat(1000)),
    ]);
    assertFails(run, 'policy-violation');
  });
});

describe('XmlStreamParser: properties', () => {
  const timeBound = (fn: () => void, label: string) => {
    const start = performance.now();
    fn();
    const ms = performance.now() - start;
    assert.ok(ms < 1000, `${label} took ${ms.toFixed(0)} ms`);
  };

  const feed = (chunks: Uint8Array[]) => {
    const parser = new XmlStreamParser(LIMITS, {
      onStreamStart: () => {},
      onStanza: () => {},
      onStreamEnd: () => {},
    });
    for (const c of chunks) {
      try {
        parser.write(c);
      } catch (err) {
        if (err instanceof XmlStreamError) return;
        throw err;
      }
    }
  };

  it('random bytes raise nothing but XmlStreamError, quickly', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 512 }), { maxLength: 8 }), (chunks) => {
        timeBound(() => feed(chunks), 'random bytes');
        timeBound(() => feed([Buffer.from(HEADER), ...chunks]), 'random bytes after a header');
      }),
      { numRuns: 400 },
    );
  });

  const sample = [
    HEADER,
    "<message to='bob@localhost' type='chat' id='m1'><body>hi &amp; bye</body>",
    "<active xmlns='http://jabber.org/protocol/chatstates'/></message>",
    "<iq type='get' id='r1'><query xmlns='jabber:iq:roster' ver='3'/></iq>",
    '<presence><show>away</show><status>€ 😀</status><priority>5</priority></presence>',
    "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>",
    '</stream:stream>',
  ].join('');
  const tokens = [
    '<',
    '>',
    '/>',
    '</',
    '&',
    ';',
    "'",
    '"',
    '=',
    ':',
    '<!',
    '<?',
    ']]>',
    '\0',
    '\uD800',
    'é',
  ];

  it('mutated valid streams raise nothing but XmlStreamError, quickly', () => {
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        text: fc.constantFrom(...tokens),
      }),
      fc.record({
        kind: fc.constant('delete' as const),
        at: fc.nat(),
        len: fc.integer({ min: 1, max: 20 }),
      }),
      fc.record({
        kind: fc.constant('dup' as const),
        at: fc.nat(),
        len: fc.integer({ min: 1, max: 200 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
        (mutations, cuts) => {
          let bytes = Buffer.from(sample);
          for (const m of mutations) {
            const at = m.at % (bytes.length + 1);
            if (m.kind === 'flip' && bytes.length > 0) {
              bytes = Buffer.from(bytes);
              bytes[at % bytes.length] = m.byte;
            } else if (m.kind === 'insert') {
              bytes = Buffer.concat([
                bytes.subarray(0, at),
                Buffer.from(m.text),
                bytes.subarray(at),
              ]);
            } else if (m.kind === 'delete') {
              bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.len)]);
            } else if (m.kind === 'dup') {
              bytes = Buffer.concat([bytes.subarray(0, at + m.len), bytes.subarray(at)]);
            }
          }
          const chunks: Uint8Array[] = [];
          let pos = 0;
          for (let i = 0; pos < bytes.length; i++) {
            const n = cuts[i % cuts.length]!;
            chunks.push(bytes.subarray(pos, pos + n));
            pos += n;
          }
          timeBound(() => feed(chunks), 'mutated stream');
        },
      ),
      { numRuns: 600 },
    );
  });

  it('any well-formed stanza round-trips through serialization', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/).filter((n) => !n.startsWith('xml'));
    const text = fc
      .string({ maxLength: 40 })
      .map((s) => s.replace(/[^\t\n\x20-\uD7FF\uE000-\uFFFD]/g, ''));
    fc.assert(
      fc.property(name, text, fc.dictionary(name, text, { maxKeys: 4 }), (n, t, attrs) => {
        const parser = new XmlStreamParser(LIMITS, {
          onStreamStart: () => {},
          onStanza: (el) => {
            // Serialize the parsed stanza and parse it again: same tree.
            const again = parse([HEADER, el.toString()]);
            assert.equal(again.error, undefined, again.error?.message);
            assert.equal(again.stanzas[0]?.toString(), el.toString());
          },
          onStreamEnd: () => {},
        });
        const attrText = Object.entries(attrs)
          .map(
            ([k, v]) =>
              ` ${k}="${v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')}"`,
          )
          .join('');
        parser.write(Buffer.from(HEADER));
        parser.write(
          Buffer.from(
            `<message${attrText}><${n}>${t.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</${n}></message>`,
          ),
        );
      }),
      { numRuns: 300 },
    );
  });
});
