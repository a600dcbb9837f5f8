// What every inspector in the live message path is given: the stanza, who sends it to whom,
// its text, the links in it and what the server knows about the pair (the context).

import type { Session } from '../../session/session.ts';
import type { Jid } from '../../stanza/jid.ts';
import type { XmlElement } from '../../xml/element.ts';
import type { InspectContext } from '../inspectors/types.ts';
import { extractUrls } from '../inspectors/url-extract.ts';
import type { Verdict } from '../verdict.ts';

/** Where a message comes from; local users today, federation and group rooms later. */
export type MessageOrigin = 'local' | 'remote' | 'room';

/** The engine's context, with what the live server adds to the corpus fields. */
export type MessageContext = InspectContext & {
  /** No message between this pair (either way) in the last day, as far as this server saw. */
  firstInConversation: boolean;
  origin: MessageOrigin;
};

/** One message on its way to one recipient; evaluated once per (sender, recipient). */
export class Inspection {
  private foundUrls: string[] | undefined;

  constructor(
    /** The message as it would be delivered (markup already stripped). */
    readonly stanza: XmlElement,
    /** The sender's full JID (a bare JID for server-generated messages). */
    readonly from: Jid,
    /** The recipient: a local account's bare or full JID. */
    readonly to: Jid,
    /** Every <body/> joined; '' for messages without one (chat states, receipts). */
    readonly text: string,
    readonly context: MessageContext,
    /** The sender's session when a local client sent it. */
    readonly session: Session | undefined,
    /** The name of a file offered with the message (XEP-0066 out-of-band URL), if any. */
    readonly fileName?: string,
  ) {}

  /** Every link in the text, de-obfuscated and normalised (computed on first use). */
  get urls(): string[] {
    this.foundUrls ??= this.text === '' ? [] : extractUrls(this.text).map((u) => u.url);
    return this.foundUrls;
  }
}

/**
 * An inspector added to the pipeline with `ThreatPipeline.use()`. `name` is its rule family:
 * its mode (off / monitor / enforce) is `policy.modes[name]`. Returning undefined means
 * "nothing to say"; a Promise is awaited (the sender's later messages wait their turn).
 * `earlier` holds the verdicts of the rules that ran before it (modes applied).
 */
export type PipelineInspector = {
  name: string;
  inspect(
    inspection: Inspection,
    earlier: readonly Verdict[],
  ): Verdict | undefined | Promise<Verdict | undefined>;
};
