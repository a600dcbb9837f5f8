// The threat engine in the live message path. Every message to a local account passes
// here after the server stamped its sender and before delivery: the pipeline decides, and
// the decision is carried out (deliver, deliver with a label, hold, refuse with a stanza
// error, or quarantine the sender) and recorded as a security event.

import type { ServerContext } from '../../server/context.ts';
import type { Session } from '../../session/session.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { Jid } from '../../stanza/jid.ts';
import type { XmlElement } from '../../xml/element.ts';
import { engineOff, modeOf } from '../engine/policy.ts';
import { quarantineAccount } from '../quarantine.ts';
import { combineVerdicts, type Verdict } from '../verdict.ts';
import type { ContextBuilder } from './context.ts';
import type { HoldService } from './holds.ts';
import { Inspection, type MessageOrigin } from './inspection.ts';
import { markupToStrip, stripForgedLabels, stripMarkup } from './markup.ts';
import type { ThreatPipeline } from './pipeline.ts';
import { labelMessage, verdictElement } from './verdict-element.ts';

const NS_OOB = 'jabber:x:oob';
const NS_REFERENCE = 'urn:xmpp:reference:0';
const NS_FORWARD = 'urn:xmpp:forward:0';
const MAX_TEXT_IN_EVENT = 1000;
const MAX_DEPTH = 8;

/** Links a client may show or fetch from XEP-0372 references (SIMS sources included). */
function referenceUris(el: XmlElement, depth = 0, out: string[] = []): string[] {
  if (depth > MAX_DEPTH) return out;
  for (const c of el.elements()) {
    if (c.name === 'reference' && c.xmlns === NS_REFERENCE && c.attrs.uri) out.push(c.attrs.uri);
    referenceUris(c, depth + 1, out);
  }
  return out;
}

function fileNameOf(url: string): string {
  const last = url.split(/[?#]/)[0]!.split('/').pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last; // a malformed escape is no reason to skip the name
  }
}

/**
 * What the inspectors read: every <body/> and <subject/> (a lure may hide in a second
 * language or in the subject), the out-of-band offer's URL and description, and reference
 * URIs. The name of an out-of-band file is judged on its own.
 */
/** Messages quoted whole (XEP-0297 forwarding): clients may show them as if sent. */
function forwardedMessages(el: XmlElement, depth = 0, out: XmlElement[] = []): XmlElement[] {
  if (depth > MAX_DEPTH) return out;
  for (const c of el.elements()) {
    if (c.name === 'forwarded' && c.xmlns === NS_FORWARD) out.push(...c.getChildren('message'));
    forwardedMessages(c, depth + 1, out);
  }
  return out;
}

export function messageText(msg: XmlElement): { text: string; fileName?: string } {
  const shown = [msg, ...forwardedMessages(msg)];
  const parts = shown
    .flatMap((m) => [...m.getChildren('subject'), ...m.getChildren('body')])
    .map((b) => b.text());
  const oob = msg.getChild('x', NS_OOB);
  const url = oob?.getChildText('url');
  const desc = oob?.getChildText('desc');
  if (desc) parts.push(desc);
  for (const uri of referenceUris(msg)) if (!parts.some((p) => p.includes(uri))) parts.push(uri);
  if (url === undefined) return { text: parts.filter((p) => p !== '').join('\n') };
  const name = fileNameOf(url);
  const text = [...parts.filter((b) => b !== '' && !b.includes(url)), url].join('\n');
  return name === '' ? { text } : { text, fileName: name };
}

export class ThreatGate {
  /** The last message of each session still being inspected: later ones wait for it. */
  private readonly tails = new Map<Session, Promise<unknown>>();
  /** Senders told recently that their markup was stripped (one event per hour each). */
  private readonly markupNoted = new Map<string, number>();

  constructor(
    private readonly ctx: ServerContext,
    readonly pipeline: ThreatPipeline,
    readonly contexts: ContextBuilder,
    readonly holds: HoldService,
  ) {}

  /**
   * A message a local client sent to a local account. Inspection may wait on storage, so a
   * session's messages are decided one after another, in the order the client sent them.
   */
  fromClient(msg: XmlElement, to: Jid, session: Session): Promise<void> {
    const before = this.tails.get(session);
    let sent!: () => void;
    const routed = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const run = before
      ? before.then(() => this.admit(msg, to, session, 'local', sent))
      : this.admit(msg, to, session, 'local', sent);
    // The next message waits until this one was sent, not until it was also written ahead.
    const tail = Promise.race([routed, run]).catch(() => {});
    this.tails.set(session, tail);
    void tail.then(() => {
      if (this.tails.get(session) === tail) this.tails.delete(session);
    });
    return run;
  }

  /**
   * The one entry point for a message on its way to local account `to`, whatever its
   * source (a local session now; federation and group rooms call it with their origin).
   * Resolves once delivered or held; throws a StanzaError for the sender when refused.
   */
  async admit(
    original: XmlElement,
    to: Jid,
    session: Session | undefined,
    origin: MessageOrigin,
    onSent?: () => void,
  ): Promise<void> {
    const deliver = (msg: XmlElement) => this.deliver(msg, to, session, onSent);
    const from = Jid.parse(original.attrs.from!);
    const type = original.attrs.type;
    // Talking to oneself is not a threat.
    if (from.bare === to.bare) return deliver(original);
    // A user is not a room: groupchat from one would skip every rule below (rooms inspect theirs).
    if (type === 'groupchat' && origin === 'local') {
      this.recordBypass(from, to, 'groupchat.user', 'groupchat from a user account');
      throw new StanzaError('service-unavailable', 'users cannot send groupchat messages');
    }
    if (type === 'error') {
      // Errors answer the recipient's own stanzas (RFC 6120 §8.3.1 lets them echo the original
      // payload, which is not needed); an "error" out of the blue from a stranger is a way
      // around the stranger policy, so it is dropped.
      if (!this.strangersEnforced() || (await this.contexts.isContact(from.bare, to.bare))) {
        // Only the <error/> goes on: a body "echoed" in an error would skip every inspector.
        const bare = original.withAttrs({});
        bare.children = original.children.filter(
          (c) => typeof c !== 'string' && c.name === 'error',
        );
        return deliver(bare);
      }
      this.recordBypass(from, to, 'stranger.error', 'an unsolicited error message from a stranger');
      return;
    }
    // The recipient's own rules (blocking) come first: a blocked sender cannot even ask.
    const admitted = await this.ctx.router.inboundAdmission(original, to.bare);
    if (admitted instanceof StanzaError) throw admitted;
    if (admitted === 'drop') return;
    const unlabelled = stripForgedLabels(original);
    if (unlabelled.removed > 0) {
      const what = 'a verdict or notice written by the sender';
      this.recordBypass(from, to, 'forged.verdict', what, 'T4', 'label');
    }
    const msg = this.defuseMarkup(unlabelled.msg, from, to);
    if (engineOff(this.pipeline.policy)) return deliver(msg);
    const { text, fileName } = messageText(msg);
    const context = await this.contexts.build(from, to, text, origin);
    if (text === '' && !context.senderIsContact && this.strangersEnforced()) {
      return; // chat states, receipts and the like from strangers are dropped silently
    }
    const inspection = new Inspection(msg, from, to, text, context, session, fileName);
    const { verdict, verdicts } = await this.pipeline.inspect(inspection);
    this.record(inspection, verdict, verdicts);
    switch (verdict.action) {
      case 'allow':
        return deliver(msg);
      case 'label':
        return deliver(labelMessage(msg, verdict, 'warning'));
      case 'hold':
        return this.hold(inspection, verdict, verdicts);
      case 'refuse':
        throw refusal(verdict);
      case 'quarantine':
        // After the refusal reached the sender: the quarantine ends its sessions.
        setImmediate(() => {
          quarantineAccount(
            this.ctx,
            from.bare,
            verdict.reason.replace(/\.$/, ''),
            { rule: verdict.rule, target: to.bare },
            verdict.threat,
          ).catch((err: unknown) => this.ctx.log.error({ err }, 'quarantine failed'));
        });
        throw refusal(verdict);
    }
  }

  /** Delivers, and calls `onSent` once the message is on its way (not yet written ahead). */
  private deliver(
    msg: XmlElement,
    to: Jid,
    session: Session | undefined,
    onSent: (() => void) | undefined,
  ): void | Promise<void> {
    const pending = this.ctx.router.deliverMessage(msg, to, session);
    if (!pending || this.ctx.router.isOnlyDurability(pending)) onSent?.();
    return pending;
  }

  private async hold(inspection: Inspection, top: Verdict, verdicts: Verdict[]): Promise<void> {
    if (!(await this.ctx.router.accountExists(inspection.to.bare))) {
      // Exactly what RFC 6121 answers for an unknown account: holding reveals nothing more.
      throw new StanzaError('service-unavailable');
    }
    const kind = top.rule === 'stranger' ? 'request' : 'review';
    // A contact request keeps the label other rules gave it, for when it is accepted; not the
    // classifier's, which mostly reflects that the sender was a stranger.
    const others = combineVerdicts(
      verdicts.filter(
        (v) => v.rule !== 'stranger' && !(v.rule === 'classifier' && v.action === 'label'),
      ),
    );
    const kept =
      kind === 'request' && others.action === 'label'
        ? labelMessage(inspection.stanza, others, 'warning')
        : inspection.stanza;
    await this.holds.hold(inspection, top, kept, kind);
  }

  private strangersEnforced(): boolean {
    return modeOf(this.pipeline.policy, 'stranger') === 'enforce';
  }

  private defuseMarkup(msg: XmlElement, from: Jid, to: Jid): XmlElement {
    const found = markupToStrip(msg);
    if (found.length === 0) return msg;
    const mode = modeOf(this.pipeline.policy, 'markup');
    if (mode === 'off') return msg;
    const now = Date.now();
    const last = this.markupNoted.get(from.bare);
    if (last === undefined || now - last > 3_600_000) {
      if (this.markupNoted.size > 10_000) this.markupNoted.clear();
      this.markupNoted.set(from.bare, now);
      this.ctx.events.record({
        threat: 'T9',
        rule: 'markup.stripped',
        actor: from.bare,
        target: to.bare,
        verdict: mode === 'enforce' ? 'label' : 'allow',
        evidence: { namespaces: found, mode },
      });
    }
    return mode === 'enforce' ? stripMarkup(msg) : msg;
  }

  /** A message shaped to skip inspection or to pass for the server's word, recorded. */
  private recordBypass(
    from: Jid,
    to: Jid,
    rule: string,
    what: string,
    threat = 'T1',
    verdict: 'refuse' | 'label' = 'refuse',
  ): void {
    this.ctx.events.record({
      threat,
      rule,
      actor: from.full,
      target: to.bare,
      verdict,
      evidence: { type: 'message', what },
    });
  }

  /** One event per rule that acted (or would have, in monitor mode). */
  private record(inspection: Inspection, combined: Verdict, verdicts: Verdict[]): void {
    const includeText = this.pipeline.policy.eventsIncludeText === true;
    for (const v of verdicts) {
      const monitored = v.evidence.monitor === true;
      if (v.action === 'allow' && !monitored) continue;
      const evidence: Record<string, unknown> = {
        ...v.evidence,
        reason: v.reason,
        applied: combined.action,
        context: inspection.context,
      };
      if (includeText) evidence.text = inspection.text.slice(0, MAX_TEXT_IN_EVENT);
      this.ctx.events.record({
        threat: v.threat ?? 'T1',
        rule: v.rule,
        actor: inspection.from.full,
        target: inspection.to.bare,
        ...(inspection.session ? { address: inspection.session.address } : {}),
        verdict: v.action,
        evidence,
      });
    }
  }
}

/** The stanza error a refused sender gets: policy-violation, plain words, the verdict. */
export function refusal(v: Verdict): StanzaError {
  return new StanzaError(
    'policy-violation',
    `Your message was not delivered. ${v.reason}`,
    verdictElement(v, 'danger'),
  );
}
