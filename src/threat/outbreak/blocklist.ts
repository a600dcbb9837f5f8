// Server-wide blocks of artefacts, in memory for the message path; storage keeps them across
// restarts (the module loads them at start and writes every change through).

import type { ThreatBlock } from '../../storage/ports.ts';
import type { Artefact } from './artefacts.ts';

export const blockKey = (b: Pick<ThreatBlock, 'kind' | 'value'>): string => `${b.kind}:${b.value}`;

export class ArtefactBlocklist {
  private readonly blocks = new Map<string, ThreatBlock>();

  replaceAll(blocks: readonly ThreatBlock[]): void {
    this.blocks.clear();
    for (const b of blocks) this.blocks.set(blockKey(b), b);
  }

  add(block: ThreatBlock): void {
    this.blocks.set(blockKey(block), block);
  }

  remove(key: string): void {
    this.blocks.delete(key);
  }

  /** The first block any of the artefacts falls under (a domain block covers its subdomains). */
  match(artefacts: readonly Artefact[]): ThreatBlock | undefined {
    if (this.blocks.size === 0) return undefined;
    for (const a of artefacts) {
      const hit = this.blocks.get(a.key);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
}
