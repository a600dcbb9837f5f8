import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { BruteForceGuard } from '../auth/brute-force-guard.ts';
import type { Config } from '../config/schema.ts';
import type { Hooks } from '../hooks/hooks.ts';
import type { Router } from '../router/router.ts';
import type { AccountBuckets } from '../session/account-buckets.ts';
import type { SessionRegistry } from '../session/registry.ts';
import type { Storage } from '../storage/ports.ts';
import type { StreamManagement } from '../stream/stream-management.ts';
import type { SecurityEvents } from '../threat/security-events.ts';
import type { TlsMaterial } from '../transport/tls-material.ts';

/** Everything a stream, the router and the modules share; assembled once in main.ts. */
export interface ServerContext {
  config: Config;
  domain: string;
  log: Logger;
  storage: Storage;
  sessions: SessionRegistry;
  accountBuckets: AccountBuckets;
  router: Router;
  streamManagement: StreamManagement;
  hooks: Hooks;
  events: SecurityEvents;
  guard: BruteForceGuard;
  tls: TlsMaterial;
  secureContext: SecureContext;
  /** Random per process; keys fake SCRAM salts for unknown users. */
  secret: Buffer;
  startedAt: number;
  version: string;
}
