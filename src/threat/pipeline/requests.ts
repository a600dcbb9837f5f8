// How a recipient answers contact requests (T1). Aware clients use the
// urn:rampart:requests:0 IQ query (list, accept, reject); every other client replies in
// words to the server's notice: "accept JID", "reject JID", "requests".

import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { Jid } from '../../stanza/jid.ts';
import { x } from '../../xml/element.ts';
import type { HoldService } from './holds.ts';

export const NS_REQUESTS = 'urn:rampart:requests:0';

type Accept = (owner: string, sender: string) => Promise<number>;

function senderOf(raw: string | undefined): string {
  const jid = raw === undefined ? undefined : Jid.tryParse(raw.trim());
  if (!jid || jid.local === undefined) {
    throw new StanzaError('jid-malformed', 'name the sender as a JID, like alice@example.com');
  }
  return jid.bare;
}

export function requestsModule(ctx: ServerContext, holds: HoldService, accept: Accept): void {
  ctx.router.onAccountIq('get', NS_REQUESTS, async (_iq, req) => {
    if (req.from.bare !== req.to.bare) throw new StanzaError('forbidden');
    const list = await holds.requests(req.from.bare);
    return x(
      'list',
      { xmlns: NS_REQUESTS },
      ...list.map((r) =>
        x('request', {
          jid: r.sender,
          count: String(r.count),
          since: new Date(r.firstHeldAt).toISOString(),
        }),
      ),
    );
  });

  ctx.router.onAccountIq('set', NS_REQUESTS, async (iq, req) => {
    if (req.from.bare !== req.to.bare) throw new StanzaError('forbidden');
    const op = iq.elements()[0]!;
    const sender = senderOf(op.attrs.jid);
    if (op.name === 'accept') await accept(req.from.bare, sender);
    else if (op.name === 'reject') await holds.reject(req.from.bare, sender);
    else throw new StanzaError('bad-request', 'use <accept jid=.../> or <reject jid=.../>');
    return undefined;
  });

  ctx.router.domainMessage = async (msg, session) => {
    const words = (msg.getChildText('body') ?? '').trim();
    if (words === '') return;
    const reply = await answerInWords(words, session.bare, holds, accept);
    session.send(
      x('message', { from: ctx.domain, to: session.jid.full, type: 'chat' }, x('body', {}, reply)),
    );
  };
}

const HELP =
  'Reply "requests" to list contact requests, "accept alice@example.com" to read and accept one, or "reject alice@example.com" to delete it.';

async function answerInWords(
  words: string,
  owner: string,
  holds: HoldService,
  accept: Accept,
): Promise<string> {
  const [verb = '', arg] = words.split(/\s+/, 2);
  const pending = await holds.requests(owner);
  switch (verb.toLowerCase()) {
    case 'requests':
    case 'list':
      if (pending.length === 0) return 'No contact requests are waiting.';
      return `Waiting: ${pending.map((p) => `${p.sender} (${p.count})`).join(', ')}. ${HELP}`;
    case 'accept':
    case 'reject': {
      let sender: string;
      if (arg === undefined && pending.length === 1) sender = pending[0]!.sender;
      else {
        try {
          sender = senderOf(arg);
        } catch {
          return `Say whom to ${verb.toLowerCase()}, like "${verb.toLowerCase()} alice@example.com". ${HELP}`;
        }
      }
      if (!pending.some((p) => p.sender === sender)) return `No request from ${sender} is waiting.`;
      if (verb.toLowerCase() === 'reject') {
        const n = await holds.reject(owner, sender);
        return `Deleted ${n} message(s) from ${sender}.`;
      }
      await accept(owner, sender);
      return `Accepted ${sender}: they are now in your contacts and their messages follow.`;
    }
    default:
      return HELP;
  }
}
