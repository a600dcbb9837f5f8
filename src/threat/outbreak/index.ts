// Composition of the fan-out and outbreak defence (T2) for main.ts: the service, its
// delivery-log filter (the last inbound filter, so it sees only what is really delivered),
// and its control-socket handlers for `rampart threat ...` and `rampart user release`.

import type { ControlHandlers } from '../../admin/control-socket.ts';
import type { ServerContext } from '../../server/context.ts';
import { DEFAULT_OUTBREAK_SETTINGS } from './detector.ts';
import { type OutbreakPolicy, OutbreakService } from './service.ts';

export const DEFAULT_OUTBREAK_POLICY: OutbreakPolicy = {
  ...DEFAULT_OUTBREAK_SETTINGS,
  purgeRetentionMs: 7 * 86_400_000,
  admins: [],
  trustedDomains: [],
};

export type OutbreakControl = Pick<
  ControlHandlers,
  'accountReleased' | 'artefactBlocked' | 'artefactUnblocked'
>;

export async function outbreakModule(
  ctx: ServerContext,
  policy: () => OutbreakPolicy,
): Promise<{ service: OutbreakService; control: OutbreakControl }> {
  const service = new OutbreakService(ctx, () => {
    const p = policy();
    // The server's own domain is never suspicious, nor blocked by the detector.
    return { ...p, trustedDomains: [ctx.domain, ...p.trustedDomains] };
  });
  ctx.router.inboundFilters.push(service.deliveryFilter);
  await service.start();
  return {
    service,
    control: {
      accountReleased: (jid) => service.released(jid),
      artefactBlocked: (kind, value) => service.blocked(kind, value),
      artefactUnblocked: (kind, value) => service.unblocked(kind, value),
    },
  };
}
