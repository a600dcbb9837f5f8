import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { controlSocketPath, startControlServer } from './admin/control-socket.ts';
import { BruteForceGuard } from './auth/brute-force-guard.ts';
import type { Config } from './config/schema.ts';
import { Hooks } from './hooks/hooks.ts';
import { startHttpsServer } from './http/https-server.ts';
import { HttpRoutes } from './http/routes.ts';
import { xmppWebSocketFeature } from './http/xmpp-websocket.ts';
import { createLogger } from './log/logger.ts';
import { blockingModule, NS_BLOCKING } from './modules/blocking/index.ts';
import { capsModule } from './modules/caps/index.ts';
import { carbonsModule, NS_CARBONS } from './modules/carbons/index.ts';
import { csiModule } from './modules/csi/index.ts';
import { discoModule } from './modules/disco/index.ts';
import { lastActivityModule } from './modules/last/index.ts';
import { offlineModule } from './modules/offline/index.ts';
import { pepModule } from './modules/pep/index.ts';
import { pepNotifications } from './modules/pep/notify.ts';
import { pingModule } from './modules/ping/index.ts';
import { presenceModule } from './modules/presence/index.ts';
import { privateStorageModule } from './modules/private/index.ts';
import { rosterModule } from './modules/roster/index.ts';
import { RosterService } from './modules/roster/roster-service.ts';
import { sessionModule } from './modules/session/index.ts';
import { NS_VCARD, vcardModule } from './modules/vcard/index.ts';
import { versionModule } from './modules/version/index.ts';
import { Router } from './router/router.ts';
import type { ServerContext } from './server/context.ts';
import { AccountBuckets } from './session/account-buckets.ts';
import { startLivenessSweep } from './session/liveness.ts';
import { SessionRegistry } from './session/registry.ts';
import { Jid } from './stanza/jid.ts';
import { NS } from './stanza/namespaces.ts';
import { openStorage } from './storage/open.ts';
import { StreamManagement } from './stream/stream-management.ts';
import { floodModule } from './threat/flood/index.ts';
import { outbreakModule } from './threat/outbreak/index.ts';
import { p2pPolicy } from './threat/p2p/index.ts';
import { threatEngineModule } from './threat/pipeline/index.ts';
import { policyFromConfig } from './threat/policy-config.ts';
import { SecurityEvents } from './threat/security-events.ts';
import { startC2sListeners } from './transport/listeners.ts';
import { loadTlsMaterial } from './transport/tls-material.ts';
import { uploadFeature } from './upload/feature.ts';

/** Key-value owner for facts about the server itself (no account can have this name). */
export const SERVER_OWNER = '@server';

export interface RunningServer {
  ports: { c2s: number; c2sTls: number; https: number };
  close(reason?: string): Promise<void>;
  /** Re-reads the configuration and applies its [policy] section; throws, keeping the old one. */
  reloadPolicy(): void;
}

export interface StartOptions {
  /** Reads the configuration again the way it was read at start (for policy reloads). */
  reloadConfig?: () => Config;
}

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/**
 * The composition root: builds every part in the order of the stanza path and starts the
 * listeners. Nothing else imports adapters.
 */
export async function startServer(
  config: Config,
  options: StartOptions = {},
): Promise<RunningServer> {
  const log = createLogger(config.log_level);
  mkdirSync(config.data_dir, { recursive: true, mode: 0o750 });
  const storage = openStorage({ dataDir: config.data_dir });
  // Messages written ahead for sessions that never acked them before a crash: offline now.
  const landed = await storage.offline.landAllInFlight();
  // The CLI, run against this data directory without a config, learns the domain from here.
  await storage.kv.set(SERVER_OWNER, 'domain', Jid.parse(config.domain).domain);
  const tls = await loadTlsMaterial({
    cert: config.tls.cert,
    key: config.tls.key,
    dataDir: config.data_dir,
    domain: config.domain,
  });
  const secureContext = createSecureContext({
    key: tls.key,
    cert: tls.cert,
    minVersion: config.tls.min_version,
  });

  const ctx = {
    config,
    domain: Jid.parse(config.domain).domain,
    log,
    storage,
    sessions: new SessionRegistry(),
    accountBuckets: new AccountBuckets({
      stanzasPerSecond: config.limits.account_stanzas_per_s,
      stanzaBurst: config.limits.account_stanza_burst,
      bytesPerSecond: config.limits.account_bytes_per_s,
      byteBurst: config.limits.account_byte_burst,
    }),
    hooks: new Hooks(),
    events: new SecurityEvents(storage.events, log),
    guard: new BruteForceGuard({
      maxFailures: config.auth.max_failures,
      baseDelayMs: config.auth.backoff_base_ms,
      maxDelayMs: config.auth.backoff_max_ms,
      windowMs: config.auth.failure_window_s * 1000,
    }),
    tls,
    secureContext,
    secret: randomBytes(32),
    startedAt: Date.now(),
    version: VERSION,
  } as Omit<ServerContext, 'router' | 'streamManagement'> as ServerContext;
  if (landed > 0)
    log.info({ messages: landed }, 'unacknowledged messages moved to offline storage');
  ctx.router = new Router(ctx);
  ctx.streamManagement = new StreamManagement(ctx);

  // Protocol features, each a module on the router's and hooks' extension points.
  const rosters = new RosterService(ctx);
  const presence = presenceModule(ctx, rosters);
  rosterModule(ctx, rosters, (owner, item) =>
    presence.subscriptions.afterRosterRemove(owner, item),
  );
  offlineModule(ctx);
  pingModule(ctx);
  sessionModule(ctx);
  versionModule(ctx);
  lastActivityModule(ctx);
  privateStorageModule(ctx);
  vcardModule(ctx);
  const blocking = blockingModule(ctx, presence.broadcaster);
  const pep = pepModule(ctx);
  const flood = floodModule(ctx);
  const threatPolicy = policyFromConfig(config.policy);
  const engine = threatEngineModule(ctx, rosters, threatPolicy.policy, threatPolicy.sharedGroups);
  pepNotifications(ctx, pep, capsModule(ctx), rosters, blocking);
  carbonsModule(ctx);
  csiModule(ctx);
  const routes = new HttpRoutes();
  const upload = uploadFeature(ctx, routes);
  p2pPolicy(ctx);
  discoModule(
    ctx,
    () => [...ctx.router.hostIqNamespaces(), NS.offline, NS_VCARD, NS_BLOCKING, NS_CARBONS],
    [pep.disco],
    () => upload.disco(),
  );
  // After every other inbound filter: it logs only the copies really delivered.
  const outbreak = await outbreakModule(ctx, engine);

  // Only [policy] is reloaded; the rest of the configuration needs a restart.
  const reloadPolicy = (): void => {
    if (!options.reloadConfig) throw new Error('this server cannot re-read its configuration');
    let next: Config;
    try {
      next = options.reloadConfig();
    } catch (err) {
      throw new Error(`policy not reloaded, the running one stays: ${(err as Error).message}`);
    }
    const built = policyFromConfig(next.policy);
    engine.setPolicy(built.policy, built.sharedGroups);
    outbreak.reload(next.policy);
    log.info({ policy: next.policy }, 'threat policy reloaded');
  };

  const control = await startControlServer(controlSocketPath(config.data_dir), {
    accountRemoved: (jid) => {
      for (const s of ctx.sessions.of(jid)) s.close('not-authorized', 'This account was removed.');
      rosters.forget(jid);
    },
    credentialsChanged: (jid) => {
      for (const s of ctx.sessions.of(jid)) {
        s.close('not-authorized', 'Your password was changed; sign in again with the new one.');
      }
    },
    rosterChanged: async (owner, contact) => {
      await rosters.refresh(owner, contact);
      const item = await rosters.item(owner, contact);
      if (item?.subscription === 'from' || item?.subscription === 'both') {
        presence.broadcaster.shareCurrentPresence(owner, contact);
      }
    },
    ...outbreak.control,
    policyReload: reloadPolicy,
    heldRelease: async (ids) => {
      const found = await Promise.all(ids.map((id) => storage.held.get(id)));
      const held = found.filter((m) => m !== undefined);
      await engine.holds.release(held, 'Held for review; released by an administrator');
    },
  });

  const c2s = await startC2sListeners(ctx);
  xmppWebSocketFeature(ctx, c2s, routes);
  const https = await startHttpsServer(ctx, routes, {
    requestTimeoutMs: config.upload.put_timeout_s * 1000,
  });
  const stopSweep = startLivenessSweep(ctx, c2s.streams);
  upload.start(https.port, {
    // A file found bad by a later scan: block its hash server-wide and take back the copies
    // of the messages that linked it (the zero-hour purge).
    purgeFile: async (sha256, reason) => {
      await storage.threatBlocks.add({
        kind: 'sha256',
        value: sha256,
        reason,
        source: 'admin',
        createdAt: Date.now(),
      });
      await outbreak.service.blocked('sha256', sha256);
    },
  });
  https.setReady(true);
  log.info(
    {
      domain: ctx.domain,
      c2s: c2s.ports.c2s,
      c2sTls: c2s.ports.c2sTls,
      https: https.port,
      storage: storage.kind,
    },
    'Rampart is serving',
  );

  let closing: Promise<void> | undefined;
  return {
    ports: { ...c2s.ports, https: https.port },
    reloadPolicy,
    close: (reason = 'system-shutdown') =>
      (closing ??= (async () => {
        https.setReady(false);
        stopSweep();
        upload.stop();
        outbreak.service.close();
        engine.close();
        const listenersClosed = c2s.close();
        // Sessions end now rather than hibernate; their unacked messages go to offline storage.
        ctx.streamManagement.shutdown();
        for (const stream of [...c2s.streams]) {
          stream.close(
            'system-shutdown',
            reason === 'system-shutdown' ? 'The server is shutting down.' : reason,
          );
        }
        await Promise.race([listenersClosed, new Promise((r) => setTimeout(r, 3000))]);
        await https.close();
        await control.close();
        // Held messages go to offline storage before the database closes.
        await flood.close();
        // Let the last presence and offline writes finish before the database closes.
        await new Promise((r) => setTimeout(r, 50));
        await storage.close();
        log.info('Rampart stopped');
        log.flush();
      })()),
  };
}
