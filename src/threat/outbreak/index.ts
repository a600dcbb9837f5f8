// Composition of the fan-out and outbreak defence (T2) for main.ts: the service and its
// policy (from the config's [policy] section), its inspector in the threat pipeline and its
// count as the context's fan-out, the delivery-log filter (the last inbound filter, so it
// sees only what is really delivered), and its control-socket handlers for
// `rampart threat ...` and `rampart user release`.

import type { ControlHandlers } from '../../admin/control-socket.ts';
import type { Config } from '../../config/schema.ts';
import type { ServerContext } from '../../server/context.ts';
import { Jid } from '../../stanza/jid.ts';
import { modeOf } from '../engine/policy.ts';
import type { ThreatEngine } from '../pipeline/index.ts';
import { asciiHost } from './artefacts.ts';
import { detectorFanout, outbreakInspector } from './inspector.ts';
import { type OutbreakPolicy, OutbreakService } from './service.ts';

const HOUR_MS = 3_600_000;

export function outbreakPolicyFromConfig(
  section: Config['policy'],
  domain: string,
): OutbreakPolicy {
  const o = section.outbreak;
  return {
    fanoutRecipients: o.fanout_recipients,
    fanoutWindowMs: o.fanout_window_s * 1000,
    outbreakAccounts: o.outbreak_accounts,
    outbreakWindowMs: o.outbreak_window_h * HOUR_MS,
    purgeRetentionMs: o.purge_days * 24 * HOUR_MS,
    admins: section.admins.flatMap((a) => Jid.tryParse(a)?.bare ?? []),
    // The server's own domain is never suspicious, nor blocked by the detector.
    trustedDomains: [domain, ...o.trusted_domains].map(asciiHost),
  };
}

export type OutbreakControl = Pick<
  ControlHandlers,
  'accountReleased' | 'artefactBlocked' | 'artefactUnblocked'
>;

export async function outbreakModule(
  ctx: ServerContext,
  engine: ThreatEngine,
): Promise<{
  service: OutbreakService;
  control: OutbreakControl;
  /** Applies a reloaded [policy] section. */
  reload(section: Config['policy']): void;
}> {
  let policy = outbreakPolicyFromConfig(ctx.config.policy, ctx.domain);
  const service = new OutbreakService(ctx, () => policy);
  engine.pipeline.use(outbreakInspector(service, () => modeOf(engine.pipeline.policy, 'fanout')));
  engine.gate.contexts.fanout = detectorFanout(service);
  ctx.router.inboundFilters.push(service.deliveryFilter);
  await service.start();
  return {
    service,
    control: {
      accountReleased: (jid) => service.released(jid),
      artefactBlocked: (kind, value) => service.blocked(kind, value),
      artefactUnblocked: (kind, value) => service.unblocked(kind, value),
    },
    reload(section) {
      policy = outbreakPolicyFromConfig(section, ctx.domain);
      service.reconfigure();
    },
  };
}
