import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NS_FRAMING, tcpFraming, websocketFraming } from '../../src/stream/framing.ts';
import { x } from '../../src/xml/element.ts';
import { XmlStreamError } from '../../src/xml/stream-parser.ts';

/** RFC 7395 framing in isolation: what one WebSocket message may hold, and what is sent. */

const LIMITS = { maxStanzaBytes: 1024, maxDepth: 8, maxAttributes: 16, maxTextBytes: 512 };
const OPEN = `<open xmlns='${NS_FRAMING}' to='localhost' version='1.0'/>`;

function input() {
  const seen: string[] = [];
  const feed = websocketFraming.createInput(LIMITS, {
    onStreamStart: (name, uri) => seen.push(`start ${name} ${uri}`),
    onStanza: (el) => seen.push(`${el.name} ${el.xmlns}`),
    onStreamEnd: () => seen.push('end'),
  });
  return { seen, write: (s: string) => feed.write(Buffer.from(s)) };
}

function rejects(frames: string[], pattern: RegExp): void {
  const c = input();
  assert.throws(
    () => {
      for (const f of frames) c.write(f);
    },
    (err: unknown) => err instanceof XmlStreamError && pattern.test(err.message),
    frames.join(' | '),
  );
}

describe('RFC 7395 framing', () => {
  it('reads <open/>, one element per message (jabber:client by default), <close/>', () => {
    const c = input();
    c.write(`<?xml version='1.0'?>${OPEN}`);
    c.write(`<message xmlns='jabber:client' to='a@localhost'><body>hi</body></message>`);
    c.write(`<presence/>`);
    c.write('  \n ');
    c.write(`<close xmlns='${NS_FRAMING}'/>`);
    assert.deepEqual(c.seen, [
      `start open ${NS_FRAMING}`,
      'message jabber:client',
      'presence jabber:client',
      'end',
    ]);
  });

  it('refuses messages that are not exactly one complete element', () => {
    rejects([OPEN, '<presence/><presence/>'], /exactly one complete XML element/);
    rejects([OPEN, '<message><body>hi'], /exactly one complete XML element/);
    rejects([OPEN, 'hello'], /exactly one complete XML element/);
    rejects([OPEN, '<presence/> trailing'], /exactly one complete XML element/);
    rejects([OPEN, '<![CDATA[x]]>'], /text outside a stanza/);
    rejects([OPEN, '</ws>'], /end tag/);
    rejects([OPEN, OPEN], /already open/);
  });

  it('keeps the parser limits: size, depth, comments', () => {
    rejects(
      [OPEN, `<message>${`<body>${'a'.repeat(400)}</body>`.repeat(3)}</message>`],
      /larger than 1024/,
    );
    rejects([OPEN, `${'<a>'.repeat(9)}${'</a>'.repeat(9)}`], /deeper than 8/);
    rejects([OPEN, '<!-- hi -->'], /comments/);
  });

  it('writes each element as a document of its own', () => {
    assert.equal(
      websocketFraming.serialize(x('message', { to: 'a@localhost' })),
      '<message to="a@localhost" xmlns="jabber:client"/>',
    );
    assert.match(
      websocketFraming.serialize(x('stream:features', {})),
      /^<stream:features xmlns:stream="http:\/\/etherx\.jabber\.org\/streams"\/>$/,
    );
    assert.equal(websocketFraming.footer(), `<close xmlns='${NS_FRAMING}'/>`);
    assert.equal(
      tcpFraming.serialize(x('message', { to: 'a@localhost' })),
      '<message to="a@localhost"/>',
    );
    assert.equal(tcpFraming.footer(), '</stream:stream>');
  });
});
