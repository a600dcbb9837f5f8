// Puts the threat engine in the live message path (composition for main.ts): the pipeline
// with its built-in and extension inspectors, the gate on the router, held messages and
// the ways a recipient accepts a contact request (roster, reply to a notice, IQ query).

import type { RosterService } from '../../modules/roster/roster-service.ts';
import { emptyItem } from '../../modules/roster/roster-service.ts';
import type { ServerContext } from '../../server/context.ts';
import type { ThreatPolicy } from '../engine/policy.ts';
import { ContextBuilder, type SharedGroups } from './context.ts';
import { forgedPayloadFilter } from './forged-payloads.ts';
import { ThreatGate } from './gate.ts';
import { HoldService } from './holds.ts';
import { ThreatPipeline } from './pipeline.ts';
import { presenceStatusFilter } from './presence-status.ts';
import { requestsModule } from './requests.ts';
import { strangerInspector } from './stranger.ts';

export type ThreatEngine = {
  pipeline: ThreatPipeline;
  gate: ThreatGate;
  holds: HoldService;
  /** Applies a new policy (and shared groups) to messages from now on. */
  setPolicy(policy: ThreatPolicy, sharedGroups: SharedGroups): void;
  close(): void;
};

const SWEEP_MS = 3_600_000;

export function threatEngineModule(
  ctx: ServerContext,
  rosters: RosterService,
  policy: ThreatPolicy,
  sharedGroups: SharedGroups,
): ThreatEngine {
  const pipeline = new ThreatPipeline(policy);
  const contexts = new ContextBuilder(ctx.storage, rosters);
  contexts.sharedGroups = sharedGroups;
  const holds = new HoldService(ctx, () => pipeline.policy);
  const gate = new ThreatGate(ctx, pipeline, contexts, holds);
  pipeline.use(strangerInspector(() => pipeline.policy));
  ctx.router.messageGate = (msg, to, session) => gate.fromClient(msg, to, session);
  presenceStatusFilter(ctx, () => pipeline.policy);
  forgedPayloadFilter(ctx);

  // Adding the sender to one's roster is how a standard client accepts a contact request.
  ctx.hooks.on('roster-item-set', (owner, contact) => {
    holds.accept(owner, contact).catch((err: unknown) => {
      ctx.log.error({ err, owner, contact }, 'delivering accepted requests failed');
    });
  });
  requestsModule(ctx, holds, (owner, sender) =>
    rosters.item(owner, sender).then((item) => {
      if (item) return holds.accept(owner, sender);
      // Accepting makes the sender a contact; the roster hook then delivers.
      return rosters.put(owner, emptyItem(sender)).then(() => 0);
    }),
  );

  const sweep = setInterval(() => {
    const cutoff = Date.now() - pipeline.policy.stranger.retentionDays * 86_400_000;
    ctx.storage.held.removeOlderThan(cutoff).catch(() => {});
  }, SWEEP_MS);
  sweep.unref();

  return {
    pipeline,
    gate,
    holds,
    setPolicy(next, groups) {
      pipeline.setPolicy(next);
      contexts.sharedGroups = groups;
    },
    close: () => {
      clearInterval(sweep);
      // The per-message cost of inspection over the server's life (bench/engine-overhead.mjs).
      const inspectionMs = pipeline.timings.summary();
      if (inspectionMs.count > 0) ctx.log.info({ inspectionMs }, 'inspection timings');
    },
  };
}
