// The fan-out and outbreak rules (T2), in memory and free of I/O: the module applies what
// they decide (quarantine, blocks, purges).
//
// Fan-out: one account sending the same artefact to more than K distinct recipients within
// W is stopped, if the artefact is suspicious on its own (see artefacts.ts) or the engine
// held the message already at its first copy (spam). A hold that only came as the fan-out
// grew does not count: the classifier reads the fan-out too, and quarantine needs evidence
// of its own (a label does not either: a defanged link or an archive is labelled, and
// security staff send those to their colleagues). Ordinary broadcasts only count, which feeds the `fanout` context.
// Outbreak: an artefact that made one account exceed the fan-out is "tainted"; once M
// distinct accounts have sent a tainted artefact within the outbreak window, it is blocked
// server-wide. Until then copies of a tainted artefact from other accounts are refused: they
// are most likely the next hop of the worm. Worms reword their lure (and vary the link's
// path) at each hop, but the host or the file stays.

import type { ThreatBlock } from '../../storage/ports.ts';
import type { Artefact } from './artefacts.ts';
import type { ArtefactBlocklist } from './blocklist.ts';
import { WindowedDistinct } from './windowed-distinct.ts';

export type OutbreakSettings = {
  /** K: distinct recipients of one artefact allowed within the window. */
  fanoutRecipients: number;
  /** W */
  fanoutWindowMs: number;
  /** M: distinct accounts sending a tainted artefact before it is blocked server-wide. */
  outbreakAccounts: number;
  /** How long a taint and the accounts seen sending it are remembered. */
  outbreakWindowMs: number;
};

export const DEFAULT_OUTBREAK_SETTINGS: OutbreakSettings = {
  fanoutRecipients: 5,
  fanoutWindowMs: 60_000,
  outbreakAccounts: 3,
  outbreakWindowMs: 24 * 3600_000,
};

export type Stop =
  | { kind: 'blocked'; block: ThreatBlock }
  | { kind: 'quarantined' }
  | { kind: 'tainted'; artefact: Artefact }
  | { kind: 'fanout'; artefact: Artefact; recipients: number };

export type CopyJudgement = {
  stop?: Stop;
  /** Artefacts this copy turned into an outbreak: to block server-wide now. */
  outbreaks: Array<{ artefact: Artefact; accounts: number }>;
};

/** Text fingerprints are weak evidence: they are never the reported reason when a link is. */
const KIND_RANK: Record<Artefact['kind'], number> = {
  url: 0,
  sha256: 1,
  file: 2,
  domain: 3,
  links: 4,
  text: 5,
};

const MAX_REMEMBERED = 100_000;

const byKind = (a: Artefact, b: Artefact): number => KIND_RANK[a.kind] - KIND_RANK[b.kind];

export class OutbreakDetector {
  private readonly recipients: WindowedDistinct;
  private readonly senders: WindowedDistinct;
  /** artefact key → when it was tainted */
  private readonly tainted = new Map<string, number>();
  private readonly quarantined = new Set<string>();
  /** "sender\0key" → when a first copy carrying it was held by the engine */
  private readonly stoppedAtFirst = new Map<string, number>();

  constructor(
    private settings: OutbreakSettings,
    private readonly blocklist: ArtefactBlocklist,
  ) {
    this.recipients = new WindowedDistinct(settings.fanoutWindowMs);
    this.senders = new WindowedDistinct(settings.outbreakWindowMs);
  }

  /** Thresholds change on policy reload; counts in flight are kept. */
  configure(settings: OutbreakSettings): void {
    this.settings = settings;
    this.recipients.windowMs = settings.fanoutWindowMs;
    this.senders.windowMs = settings.outbreakWindowMs;
  }

  /**
   * Records one copy (sender → recipient) and returns its fan-out: the distinct recipients of
   * its most-sent artefact within the window, this one included (1 for ordinary chat).
   */
  track(sender: string, recipient: string, artefacts: readonly Artefact[], now: number): number {
    let fanout = 1;
    for (const a of artefacts) {
      if (a.counted) fanout = Math.max(fanout, this.recipients.add(sender, a.key, recipient, now));
      if (a.blockable) this.senders.add('', a.key, sender, now);
    }
    return fanout;
  }

  /**
   * Judges a tracked copy. `stopped`: the engine's other rules hold or refuse it; when they do
   * at an artefact's first copy, every later copy of it counts as suspicious.
   */
  judge(
    sender: string,
    artefacts: readonly Artefact[],
    stopped: boolean,
    now: number,
  ): CopyJudgement {
    const block = this.blocklist.match(artefacts);
    if (block !== undefined) return { stop: { kind: 'blocked', block }, outbreaks: [] };
    const outbreaks: CopyJudgement['outbreaks'] = [];
    let stop: Stop | undefined = this.quarantined.has(sender) ? { kind: 'quarantined' } : undefined;

    const tainted = artefacts.filter((a) => this.isTainted(a.key, now));
    const badAlone = (a: Artefact): boolean => {
      const key = `${sender}\0${a.key}`;
      if (stopped && this.recipients.count(sender, a.key, now) <= 1) {
        if (this.stoppedAtFirst.size >= MAX_REMEMBERED) this.forgetOldStops(now);
        this.stoppedAtFirst.set(key, now);
        return true;
      }
      const at = this.stoppedAtFirst.get(key);
      return at !== undefined && now - at <= this.settings.fanoutWindowMs;
    };
    const over = artefacts
      .filter((a) => a.counted && (badAlone(a) || a.suspicious || tainted.includes(a)))
      .map((a) => ({ artefact: a, recipients: this.recipients.count(sender, a.key, now) }))
      .filter((c) => c.recipients > this.settings.fanoutRecipients)
      .sort((x, y) => byKind(x.artefact, y.artefact));
    if (stop === undefined && over.length > 0) {
      const first = over[0]!;
      stop = { kind: 'fanout', artefact: first.artefact, recipients: first.recipients };
      this.quarantined.add(sender);
      for (const a of artefacts) {
        if (a.blockable && (a.suspicious || badAlone(a))) this.tainted.set(a.key, now);
      }
    }
    if (stop === undefined && tainted.length > 0) {
      stop = { kind: 'tainted', artefact: tainted.sort(byKind)[0]! };
    }

    for (const a of artefacts) {
      if (!a.blockable || !this.isTainted(a.key, now)) continue;
      const accounts = this.senders.count('', a.key, now);
      if (accounts >= this.settings.outbreakAccounts) {
        outbreaks.push({ artefact: a, accounts });
        this.tainted.delete(a.key);
      }
    }
    return stop === undefined ? { outbreaks } : { stop, outbreaks };
  }

  /** An admin released the account: its counts start afresh. */
  release(sender: string): void {
    this.quarantined.delete(sender);
    this.recipients.forget(sender);
    for (const key of this.stoppedAtFirst.keys()) {
      if (key.startsWith(`${sender}\0`)) this.stoppedAtFirst.delete(key);
    }
  }

  private forgetOldStops(now: number): void {
    for (const [k, at] of this.stoppedAtFirst) {
      if (now - at > this.settings.fanoutWindowMs) this.stoppedAtFirst.delete(k);
    }
  }

  /** An account was quarantined for spreading it, within the outbreak window. */
  isTainted(key: string, now = Date.now()): boolean {
    const at = this.tainted.get(key);
    if (at === undefined) return false;
    if (now - at <= this.settings.outbreakWindowMs) return true;
    this.tainted.delete(key);
    return false;
  }
}
