import type { Logger } from 'pino';
import type { SecurityEvent, SecurityEventStore } from '../storage/ports.ts';

/**
 * Records security events: to storage (the `security_events` table) and to the log.
 * Recording never blocks or fails the stanza path; a storage error is logged.
 */
export class SecurityEvents {
  constructor(
    private readonly store: SecurityEventStore,
    private readonly log: Logger,
  ) {}

  record(event: SecurityEvent): void {
    const withTime = { ...event, time: event.time ?? Date.now() };
    this.log.warn(
      { security: withTime },
      `security event ${event.threat} ${event.rule} ${event.verdict}`,
    );
    this.store.record(withTime).catch((err: unknown) => {
      this.log.error({ err }, 'could not store security event');
    });
  }
}
