import type { ServerContext } from '../server/context.ts';
import type { C2sStream } from '../stream/c2s-stream.ts';

const SWEEP_MS = 2000;

/**
 * One timer for all streams: closes streams that never authenticate (slow-loris, T5) and
 * sessions that stop answering pings (dead connections, T4), so presence stays true.
 */
export function startLivenessSweep(ctx: ServerContext, streams: Set<C2sStream>): () => void {
  const l = ctx.config.limits;
  const timer = setInterval(() => {
    const now = Date.now();
    for (const stream of streams) {
      if (stream.phase === 'closed') continue;
      if (stream.phase !== 'established') {
        if (now - stream.openedAt > l.unauthenticated_timeout_s * 1000) {
          ctx.events.record({
            threat: 'T5',
            rule: 'stream.unauthenticated-timeout',
            actor: stream.remoteAddress,
            address: stream.remoteAddress,
            verdict: 'close',
            evidence: { seconds: l.unauthenticated_timeout_s, phase: stream.phase },
          });
          stream.close(
            'connection-timeout',
            `authenticate within ${l.unauthenticated_timeout_s} seconds`,
          );
        }
        continue;
      }
      const ping = stream.pingOutstanding;
      if (ping) {
        if (now - ping.sentAt > l.ping_timeout_s * 1000) {
          ctx.events.record({
            threat: 'T4',
            rule: 'session.dead',
            actor: stream.session?.jid.full ?? stream.remoteAddress,
            address: stream.remoteAddress,
            verdict: 'close',
            evidence: { silentSeconds: Math.round((now - stream.lastInbound) / 1000) },
          });
          stream.close('connection-timeout', 'no answer to ping');
        }
      } else if (now - stream.lastInbound > l.ping_interval_s * 1000) {
        stream.sendPing();
      }
    }
  }, SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
