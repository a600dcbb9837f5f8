import { XmlElement } from './element.ts';
import { XmlStreamParser } from './stream-parser.ts';

/**
 * Parses one element that the server itself serialized earlier (stored private XML, vCards).
 * The input was already checked by the stream parser when it arrived, so the limits here
 * only guard against a corrupted store. Returns undefined when nothing parses.
 */
export function parseStoredElement(raw: string): XmlElement | undefined {
  let out: XmlElement | undefined;
  const parser = new XmlStreamParser(
    {
      maxStanzaBytes: Number.MAX_SAFE_INTEGER,
      maxDepth: 1000,
      maxAttributes: 10_000,
      maxTextBytes: Number.MAX_SAFE_INTEGER,
    },
    {
      onStreamStart: () => {},
      onStanza: (el) => {
        out = el;
      },
      onStreamEnd: () => {},
    },
  );
  try {
    parser.writeText(
      `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>${raw}`,
    );
  } catch {
    return undefined;
  }
  return out instanceof XmlElement ? out : undefined;
}
