// The zero-hour purge (T2): when an artefact turns out bad after delivery, the copies
// delivered in the last days are taken back. A copy still waiting in offline storage is
// deleted (its recipient never saw it); a copy already delivered gets an XEP-0424 retraction
// with a plain fallback body. One security event records each purge.

import type { SecurityEvent, Storage, StoredDeliveryRecord } from '../../storage/ports.ts';
import type { XmlElement } from '../../xml/element.ts';
import { parseStoredElement } from '../../xml/parse-element.ts';
import { retractionMessage } from './retraction.ts';
import { NS_SID } from './stanza-id.ts';

export type PurgeRequest = {
  /** Artefact keys that are now bad (`url:...`, `domain:...`, `sha256:...`, `file:...`). */
  artefacts: string[];
  /** Only this sender's copies (a quarantined account); every sender's when absent. */
  sender?: string;
  /** Plain words for the recipients: why the message was removed. */
  reason: string;
  rule: string;
  /** Who caused the purge: an admin, the detector, a quarantined account. */
  actor: string;
};

export type PurgeResult = { retracted: number; removedOffline: number };

export type PurgeDeps = {
  storage: Pick<Storage, 'deliveries' | 'offline'>;
  /** Delivers a server-made message to a local account (online, or offline storage). */
  deliver: (msg: XmlElement, toBare: string) => Promise<void>;
  record: (event: SecurityEvent) => void;
  /** How far back delivered copies are taken back. */
  retentionMs: () => number;
  now?: () => number;
};

export class ZeroHourPurge {
  constructor(private readonly deps: PurgeDeps) {}

  async purge(req: PurgeRequest): Promise<PurgeResult> {
    const now = this.deps.now?.() ?? Date.now();
    const query: { artefacts: string[]; since: number; sender?: string } = {
      artefacts: req.artefacts,
      since: now - this.deps.retentionMs(),
    };
    if (req.sender !== undefined) query.sender = req.sender;
    const rows = await this.deps.storage.deliveries.find(query);
    const byRecipient = new Map<string, StoredDeliveryRecord[]>();
    for (const row of rows) {
      const list = byRecipient.get(row.recipient) ?? [];
      list.push(row);
      byRecipient.set(row.recipient, list);
    }
    const result: PurgeResult = { retracted: 0, removedOffline: 0 };
    for (const [recipient, copies] of byRecipient) {
      const unseen = await this.removeOffline(recipient, copies);
      result.removedOffline += unseen.size;
      for (const copy of copies) {
        if (unseen.has(copy.stanzaId) || copy.messageId === undefined) continue;
        const retraction = retractionMessage({
          sender: copy.sender,
          recipient,
          messageId: copy.messageId,
          reason: req.reason,
          threat: 'T2',
          rule: req.rule,
        });
        await this.deps.deliver(retraction, recipient).then(
          () => {
            result.retracted++;
          },
          () => {}, // e.g. the recipient was removed meanwhile
        );
      }
    }
    await this.deps.storage.deliveries.remove(rows.map((r) => r.id));
    this.deps.record({
      threat: 'T2',
      rule: req.rule,
      actor: req.actor,
      ...(req.sender !== undefined ? { target: req.sender } : {}),
      verdict: 'retract',
      evidence: {
        artefacts: req.artefacts.filter((a) => !a.startsWith('text:')),
        copies: rows.length,
        recipients: byRecipient.size,
        ...result,
        reason: req.reason,
      },
    });
    return result;
  }

  /** Deletes the copies still in offline storage; returns their stanza-ids. */
  private async removeOffline(
    recipient: string,
    copies: StoredDeliveryRecord[],
  ): Promise<Set<string>> {
    const wanted = new Set(copies.map((c) => c.stanzaId));
    const found = new Set<string>();
    const ids: number[] = [];
    for (const stored of await this.deps.storage.offline.list(recipient)) {
      if (!copies.some((c) => stored.stanza.includes(c.stanzaId))) continue;
      const sid = stanzaIdOf(parseStoredElement(stored.stanza), recipient);
      if (sid !== undefined && wanted.has(sid)) {
        ids.push(stored.id);
        found.add(sid);
      }
    }
    await this.deps.storage.offline.remove(recipient, ids);
    return found;
  }
}

function stanzaIdOf(msg: XmlElement | undefined, by: string): string | undefined {
  return msg?.getChildren('stanza-id', NS_SID).find((c) => c.attrs.by === by)?.attrs.id;
}
