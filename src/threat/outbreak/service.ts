// The fan-out and outbreak defence in a running server (T2): judges each copy of a message
// with the detector, carries out what it decides (server-wide blocks, admin alerts, purges),
// logs deliveries that carry artefacts, and answers the admin commands (block, unblock,
// release) that reach the server over the control socket.

import type { InboundFilter } from '../../router/router.ts';
import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { Jid } from '../../stanza/jid.ts';
import type { ThreatBlock, ThreatBlockKind } from '../../storage/ports.ts';
import type { XmlElement } from '../../xml/element.ts';
import { serverNotice } from '../server-notice.ts';
import type { Verdict } from '../verdict.ts';
import { type Artefact, extractArtefacts, type MessageParts } from './artefacts.ts';
import { ArtefactBlocklist, blockKey } from './blocklist.ts';
import { OutbreakDetector, type OutbreakSettings, type Stop } from './detector.ts';
import { messageParts } from './message-parts.ts';
import { ZeroHourPurge } from './purge.ts';
import { isRetraction } from './retraction.ts';
import { clientMessageId, ensureStanzaId } from './stanza-id.ts';

export type OutbreakPolicy = OutbreakSettings & {
  /** How far back the purge reaches (and how long the delivery log keeps entries). */
  purgeRetentionMs: number;
  /** Bare JIDs told by a message when an account is quarantined or an artefact blocked. */
  admins: readonly string[];
  /** Domains never treated as suspicious nor blocked by the detector (the admin still can). */
  trustedDomains: readonly string[];
};

export type CopyInput = {
  sender: string;
  recipient: string;
  parts: MessageParts;
  /** The engine's other rules hold or refuse this copy. */
  stopped: boolean;
  now?: number;
};

const PRUNE_INTERVAL_MS = 3_600_000;
const RECENT_MESSAGES = 8;

/** What a sender was stopped for, in words a user reads. */
function artefactInWords(a: Artefact): string {
  if (a.kind === 'text') return 'the same message';
  if (a.kind === 'links') return 'suspicious links';
  return defangArtefact(a.key);
}

/** A link or domain as text that cannot be clicked: hxxp://evil[.]example/. */
export function defangArtefact(key: string): string {
  const value = key.slice(key.indexOf(':') + 1);
  if (key.startsWith('sha256:')) return `the file with SHA-256 ${value.slice(0, 16)}…`;
  if (key.startsWith('file:')) return `the file "${value}"`;
  const shown = value.replace(/^http/i, 'hxxp').replace(/\./g, '[.]');
  return key.startsWith('domain:') ? `a link to ${shown}` : `the link ${shown}`;
}

export class OutbreakService {
  readonly blocklist = new ArtefactBlocklist();
  readonly detector: OutbreakDetector;
  readonly purge: ZeroHourPurge;
  /** The last few messages' artefacts: copies to many people repeat them. */
  private readonly recent = new Map<string, Artefact[]>();
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly policy: () => OutbreakPolicy,
  ) {
    this.detector = new OutbreakDetector(policy(), this.blocklist);
    this.purge = new ZeroHourPurge({
      storage: ctx.storage,
      deliver: (msg, to) => this.deliverFromServer(msg, to),
      record: (e) => ctx.events.record(e),
      retentionMs: () => this.policy().purgeRetentionMs,
    });
  }

  /** Loads the blocks, purges those added while the server was down, starts pruning. */
  async start(): Promise<void> {
    const blocks = await this.ctx.storage.threatBlocks.list();
    this.blocklist.replaceAll(blocks);
    for (const b of blocks) if (b.purgedAt === undefined) await this.purgeBlock(b, 'admin');
    await this.prune();
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  close(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
  }

  /** Thresholds changed (policy reload). */
  reconfigure(): void {
    this.detector.configure(this.policy());
  }

  /** The artefacts of a message (recent results are reused: copies to many repeat them). */
  artefactsOf(parts: MessageParts): Artefact[] {
    const key = JSON.stringify(parts);
    const known = this.recent.get(key);
    if (known !== undefined) return known;
    const artefacts = extractArtefacts(parts, { trustedDomains: this.policy().trustedDomains });
    if (this.recent.size >= RECENT_MESSAGES) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(key, artefacts);
    return artefacts;
  }

  /** Counts one copy and returns its fan-out: the context the classifier and URL rules read. */
  fanout(sender: string, recipient: string, parts: MessageParts, now = Date.now()): number {
    return this.detector.track(sender, recipient, this.artefactsOf(parts), now);
  }

  /**
   * Judges one copy (counting it, if `fanout` did not already) and, when `enforce`, carries out
   * the outcome: an outbreak is blocked and purged, a fan-out alerts the admins and takes back
   * the copies already delivered. Returns the verdict for the sender, or undefined to let it
   * pass. In monitor mode (`enforce` false) the verdict is only reported.
   */
  judgeCopy(input: CopyInput, enforce = true): Verdict | undefined {
    const now = input.now ?? Date.now();
    const artefacts = this.artefactsOf(input.parts);
    this.detector.track(input.sender, input.recipient, artefacts, now);
    const judged = this.detector.judge(input.sender, artefacts, input.stopped, now);
    let stop: Stop | undefined = judged.stop;
    for (const o of judged.outbreaks) {
      const block = this.outbreakBlock(o.artefact, o.accounts, now);
      if (enforce) this.outbreak(block, o.artefact, o.accounts, input.sender);
      // The block is news to the sender too; a quarantine (fan-out) stays the graver answer.
      if (stop === undefined || stop.kind === 'tainted') stop = { kind: 'blocked', block };
    }
    if (stop === undefined) return undefined;
    if (enforce && stop.kind === 'fanout') {
      this.afterQuarantine(input.sender, stop.artefact, stop.recipients, artefacts);
    }
    return this.verdictFor(stop);
  }

  private verdictFor(stop: Stop): Verdict {
    const policy = this.policy();
    switch (stop.kind) {
      case 'blocked':
        return {
          action: 'refuse',
          threat: 'T2',
          rule: 'outbreak.blocked',
          reason: `It carries ${defangArtefact(blockKey(stop.block))}, blocked on this server: ${stop.block.reason}`,
          evidence: { artefact: blockKey(stop.block), source: stop.block.source },
        };
      case 'tainted':
        return {
          action: 'refuse',
          threat: 'T2',
          rule: 'outbreak.suspect',
          reason: `It carries ${defangArtefact(stop.artefact.key)}, which another account was just quarantined for spreading.`,
          evidence: { artefact: stop.artefact.key },
        };
      case 'quarantined':
        return {
          action: 'refuse',
          threat: 'T2',
          rule: 'fanout.quarantined',
          reason: 'Your account is quarantined.',
          evidence: {},
        };
      case 'fanout': {
        const seconds = Math.round(policy.fanoutWindowMs / 1000);
        const what = artefactInWords(stop.artefact);
        const reason =
          `You sent ${what} to ` +
          `${stop.recipients} people within ${seconds} seconds, the way worms spread.`;
        return {
          action: 'quarantine',
          threat: 'T2',
          rule: 'fanout',
          reason,
          evidence: {
            artefact: stop.artefact.key,
            recipients: stop.recipients,
            windowSeconds: seconds,
            limit: policy.fanoutRecipients,
          },
        };
      }
    }
  }

  /** The account is stopped: tell the admins and take back the copies it already spread. */
  private afterQuarantine(
    sender: string,
    artefact: Artefact,
    recipients: number,
    artefacts: Artefact[],
  ): void {
    this.alertAdmins(
      'fanout',
      `Rampart quarantined ${sender}: it sent ${artefactInWords(artefact)} ` +
        `to ${recipients} people within ${Math.round(this.policy().fanoutWindowMs / 1000)} seconds. ` +
        `Its sessions were ended and it cannot sign in until you run: rampart user release ${sender}`,
    );
    const keys = artefacts.filter((a) => a.kind !== 'text').map((a) => a.key);
    if (keys.length === 0) return;
    this.purge
      .purge({
        artefacts: keys,
        sender,
        reason: `${sender} was quarantined for spreading it to many people at once.`,
        rule: 'purge.fanout',
        actor: sender,
      })
      .catch((err: unknown) => this.ctx.log.error({ err }, 'purge after quarantine failed'));
  }

  private outbreakBlock(artefact: Artefact, accounts: number, now: number): ThreatBlock {
    const [kind, value] = splitKey(artefact.key);
    return {
      kind,
      value,
      reason: `${accounts} accounts spread it to many people at once (worm outbreak)`,
      source: 'outbreak',
      createdAt: now,
    };
  }

  /** M accounts sent a tainted artefact: block it server-wide, tell the admins, purge it. */
  private outbreak(block: ThreatBlock, artefact: Artefact, accounts: number, actor: string): void {
    this.blocklist.add(block);
    this.ctx.events.record({
      threat: 'T2',
      rule: 'outbreak.block',
      actor,
      target: artefact.key,
      verdict: 'refuse',
      evidence: { artefact: artefact.key, accounts },
    });
    this.alertAdmins(
      'outbreak.block',
      `Rampart blocked ${defangArtefact(artefact.key)} on the whole server: ${block.reason}. ` +
        `Copies delivered in the last days are being retracted. To lift the block: rampart threat unblock ${block.value}`,
    );
    this.ctx.storage.threatBlocks
      .add(block)
      .then(() => this.purgeBlock(block, 'outbreak'))
      .catch((err: unknown) => this.ctx.log.error({ err }, 'outbreak block failed'));
  }

  private async purgeBlock(block: ThreatBlock, actor: string): Promise<void> {
    await this.purge.purge({
      artefacts: [blockKey(block)],
      reason: `${defangArtefact(blockKey(block))} is blocked: ${block.reason}.`,
      rule: block.source === 'admin' ? 'purge.admin' : 'purge.outbreak',
      actor,
    });
    await this.ctx.storage.threatBlocks.markPurged(block.kind, block.value, Date.now());
  }

  /** `rampart threat block` committed a block: apply it and take back delivered copies. */
  async blocked(kind: ThreatBlockKind, value: string): Promise<void> {
    const block = (await this.ctx.storage.threatBlocks.list()).find(
      (b) => b.kind === kind && b.value === value,
    );
    if (block === undefined) return;
    this.blocklist.add(block);
    // The admin's command returns once the block applies; a large purge goes on meanwhile.
    if (block.purgedAt === undefined) {
      this.purgeBlock(block, 'admin').catch((err: unknown) =>
        this.ctx.log.error({ err }, 'purge of a blocked artefact failed'),
      );
    }
  }

  unblocked(kind: ThreatBlockKind, value: string): void {
    this.blocklist.remove(`${kind}:${value}`);
  }

  /** `rampart user release` cleared the quarantine: the account starts afresh. */
  released(jid: string): void {
    this.detector.release(jid);
  }

  /**
   * The inbound filter on every delivery: copies of blocked artefacts go no further (e.g. held
   * messages accepted after the block), and copies with artefacts get a stanza-id and a line in
   * the delivery log, so a later block can find them.
   */
  readonly deliveryFilter: InboundFilter = (stanza, to) => {
    if (stanza.name !== 'message' || !this.isUserMessage(stanza)) return 'continue';
    const parts = messageParts(stanza);
    const artefacts = this.artefactsOf(parts).filter((a) => a.kind !== 'text');
    if (artefacts.length === 0) return 'continue';
    const block = this.blocklist.match(artefacts);
    if (block !== undefined) {
      return new StanzaError(
        'policy-violation',
        `Your message was not delivered. It carries ${defangArtefact(blockKey(block))}, blocked on this server: ${block.reason}`,
      );
    }
    const stanzaId = ensureStanzaId(stanza, to);
    const sender = Jid.parse(stanza.attrs.from!).bare;
    const messageId = clientMessageId(stanza);
    this.ctx.storage.deliveries
      .record({
        stanzaId,
        ...(messageId !== undefined ? { messageId } : {}),
        sender,
        recipient: to,
        artefacts: artefacts.map((a) => a.key),
        time: Date.now(),
      })
      .catch((err: unknown) => this.ctx.log.error({ err }, 'delivery log write failed'));
    return 'continue';
  };

  private isUserMessage(msg: XmlElement): boolean {
    const type = msg.attrs.type ?? 'normal';
    if (type === 'error' || type === 'groupchat' || msg.attrs.from === undefined) return false;
    if (isRetraction(msg)) return false;
    const from = Jid.parse(msg.attrs.from);
    return !from.isDomain;
  }

  private alertAdmins(rule: string, text: string): void {
    for (const admin of this.policy().admins) {
      const msg = serverNotice(this.ctx.domain, admin, text, { threat: 'T2', rule });
      this.deliverFromServer(msg, admin).catch((err: unknown) =>
        this.ctx.log.warn({ err, admin }, 'could not alert an admin'),
      );
    }
  }

  /** Server-made messages skip the inbound filters and the flood gate: they are not traffic. */
  private async deliverFromServer(msg: XmlElement, toBare: string): Promise<void> {
    await this.ctx.router.deliverAdmitted(msg, Jid.parse(toBare));
  }

  private async prune(): Promise<void> {
    const before = Date.now() - this.policy().purgeRetentionMs;
    await this.ctx.storage.deliveries
      .prune(before)
      .catch((err: unknown) => this.ctx.log.error({ err }, 'delivery log prune failed'));
  }
}

function splitKey(key: string): [ThreatBlockKind, string] {
  const i = key.indexOf(':');
  return [key.slice(0, i) as ThreatBlockKind, key.slice(i + 1)];
}
