import type { Jid } from '../../stanza/jid.ts';
import type { XmlElement } from '../../xml/element.ts';

export interface HeldMessage {
  msg: XmlElement;
  /** The address it was sent to (a full JID stays one when released). */
  to: Jid;
}

/**
 * Messages held for one recipient: a first-in-first-out list per sender (order between two
 * accounts is what XMPP promises), served round-robin so that one flooding sender does not
 * keep a recipient's other contacts waiting behind it.
 */
export class HeldQueue {
  private readonly bySender = new Map<string, HeldMessage[]>();
  size = 0;

  has(sender: string): boolean {
    return this.bySender.has(sender);
  }

  push(sender: string, item: HeldMessage): void {
    const list = this.bySender.get(sender);
    if (list) list.push(item);
    else this.bySender.set(sender, [item]);
    this.size++;
  }

  senders(): IterableIterator<string> {
    return this.bySender.keys();
  }

  /** Takes the next message of the sender whose turn it is. */
  takeNext(): { sender: string; item: HeldMessage } | undefined {
    for (const [sender, list] of this.bySender) {
      const item = list.shift()!;
      // Map order is the turn order: the sender goes to the back, or leaves when done.
      this.bySender.delete(sender);
      if (list.length > 0) this.bySender.set(sender, list);
      this.size--;
      return { sender, item };
    }
    return undefined;
  }

  /** Everything, oldest first per sender; the queue is left empty. */
  drain(): { sender: string; item: HeldMessage }[] {
    const out: { sender: string; item: HeldMessage }[] = [];
    for (const [sender, list] of this.bySender) for (const item of list) out.push({ sender, item });
    this.bySender.clear();
    this.size = 0;
    return out;
  }
}
