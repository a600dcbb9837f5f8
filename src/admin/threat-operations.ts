/**
 * Server-wide artefact blocks (T2): `rampart threat block|unblock|list`. A block is written to
 * storage and the running server is told, so it refuses the artefact at once and takes back
 * the copies delivered in the last days (the zero-hour purge). With no server running, the
 * next start purges every block not purged yet.
 */
import type { Storage, ThreatBlock } from '../storage/ports.ts';
import { parseBlockTarget } from '../threat/outbreak/artefacts.ts';
import type { ControlEvent } from './control-socket.ts';
import { AdminError } from './errors.ts';

export interface ThreatOperations {
  blockArtefact(target: string, reason?: string): Promise<ThreatBlock>;
  unblockArtefact(target: string): Promise<{ kind: string; value: string }>;
  listBlocks(): Promise<ThreatBlock[]>;
}

function targetOf(input: string): ReturnType<typeof parseBlockTarget> {
  try {
    return parseBlockTarget(input);
  } catch (err) {
    throw new AdminError('invalid', (err as Error).message);
  }
}

export function createThreatOperations(
  storage: Storage,
  tell: (events: readonly ControlEvent[]) => Promise<void>,
): ThreatOperations {
  return {
    async blockArtefact(input, reason) {
      const { kind, value } = targetOf(input);
      const block: ThreatBlock = {
        kind,
        value,
        reason: reason?.trim() || 'blocked by an administrator',
        source: 'admin',
        createdAt: Date.now(),
      };
      if (!(await storage.threatBlocks.add(block))) {
        throw new AdminError('exists', `already blocked: ${kind} ${value}`);
      }
      await tell([{ type: 'artefactBlocked', kind, value }]);
      return block;
    },

    async unblockArtefact(input) {
      const { kind, value } = targetOf(input);
      if (!(await storage.threatBlocks.remove(kind, value))) {
        throw new AdminError('not-found', `not blocked: ${kind} ${value}`);
      }
      await tell([{ type: 'artefactUnblocked', kind, value }]);
      return { kind, value };
    },

    listBlocks: () => storage.threatBlocks.list(),
  };
}
