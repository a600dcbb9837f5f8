import type { HttpRoutes } from '../http/routes.ts';
import { reportScan, uploadModule } from '../modules/upload/index.ts';
import type { ServerContext } from '../server/context.ts';
import { Jid } from '../stanza/jid.ts';
import { trustUrlPrefix } from '../threat/inspectors/url-inspector.ts';
import type { XmlElement } from '../xml/element.ts';
import { uploadHttpHandler } from './http.ts';
import { loadUploadKeys } from './master-key.ts';
import { fileLinkLabeller } from './message-links.ts';
import { partyLinkRewriter } from './party-links.ts';
import { createFileScanner } from './scan/pipeline.ts';
import { scanFingerprint } from './scan/rescan.ts';
import { UPLOAD_PATH, UploadService } from './service.ts';

export interface UploadHooks {
  purgeFile?(sha256: string, reason: string): Promise<void>;
}

/** Key-value owner and key of the scan fingerprint last used for the served files. */
const FINGERPRINT = ['@server', 'upload-scan-fingerprint'] as const;
const RESCAN_CHECK_MS = 3_600_000;

export interface UploadFeature {
  /** What the domain's disco#info adds (identity and max-file-size form); empty when off. */
  disco(): XmlElement[];
  /**
   * Once the HTTPS port is known: sets the URL origin, starts the expiry sweep and the re-scan
   * check. `purgeFile` takes back the messages that linked a file found bad later.
   */
  start(httpsPort: number, hooks?: UploadHooks): void;
  stop(): void;
  service: UploadService | undefined;
}

/** Assembles XEP-0363 (IQ handler, HTTP routes, scanner) when `upload.enabled`. */
export function uploadFeature(ctx: ServerContext, routes: HttpRoutes): UploadFeature {
  const { config } = ctx;
  if (!config.upload.enabled) {
    return { disco: () => [], start: () => {}, stop: () => {}, service: undefined };
  }
  const keys = loadUploadKeys(config.data_dir);
  const service = new UploadService(
    config,
    ctx.storage.files,
    keys,
    createFileScanner(config.upload_scan),
  );
  const { disco } = uploadModule(ctx, service);
  routes.add(
    UPLOAD_PATH,
    uploadHttpHandler({
      service,
      files: ctx.storage.files,
      signKey: keys.signKey,
      downloadAccess: config.upload.download_access,
      onScanned: (file, scan) => reportScan(ctx, file, scan),
    }),
  );
  const rewrite =
    config.upload.download_access === 'party'
      ? partyLinkRewriter(() => service.origin, keys.signKey)
      : undefined;
  const label = fileLinkLabeller(
    () => service.origin,
    (id) => service.hashOf(id),
  );
  ctx.router.outboundFilters.push((stanza, session) => {
    const to = stanza.attrs.to;
    if (stanza.name !== 'message' || to === undefined) return 'continue';
    label(stanza);
    const recipient = Jid.parse(to).bare;
    if (rewrite && recipient !== session.bare) rewrite(stanza, session.bare, recipient);
    return 'continue';
  });
  let sweep: NodeJS.Timeout | undefined;
  let rescanTimer: NodeJS.Timeout | undefined;
  let rescanning = false;
  // Scans the served files again when the policy or clamd's signatures changed since the last
  // time (checked at start and every hour).
  const rescanIfChanged = async (hooks: UploadHooks) => {
    if (rescanning) return;
    rescanning = true;
    try {
      const now = await scanFingerprint(config.upload_scan);
      const last = await ctx.storage.kv.get(...FINGERPRINT);
      if (last !== undefined && last !== now) {
        const scanned = await service.rescanServed((file, scan) => {
          reportScan(ctx, file, scan, true);
          if (file.sha256 !== undefined) {
            hooks
              .purgeFile?.(file.sha256, `a new scan found it unsafe: ${scan.reason}`)
              .catch((err: unknown) =>
                ctx.log.warn({ err }, 'could not purge the links to a file'),
              );
          }
        });
        ctx.log.info({ scanned }, 'upload scan policy or signatures changed: files re-scanned');
      }
      if (last !== now) await ctx.storage.kv.set(...FINGERPRINT, now);
    } finally {
      rescanning = false;
    }
  };
  return {
    disco,
    service,
    start(httpsPort, hooks = {}) {
      service.origin = config.upload.public_url ?? `https://${ctx.domain}:${httpsPort}`;
      // Its own links lead to scanned files only: no "unusual port" or "archive" label on them.
      trustUrlPrefix(`${service.origin}${UPLOAD_PATH}`);
      const rescan = () =>
        rescanIfChanged(hooks).catch((err: unknown) => ctx.log.warn({ err }, 're-scan failed'));
      service
        .loadCleanHashes()
        .then(rescan)
        .catch((err: unknown) => ctx.log.warn({ err }, 'could not load upload hashes'));
      rescanTimer = setInterval(rescan, RESCAN_CHECK_MS);
      rescanTimer.unref();
      sweep = setInterval(() => {
        service.sweep().catch((err: unknown) => ctx.log.warn({ err }, 'upload sweep failed'));
      }, 60_000);
      sweep.unref();
    },
    stop() {
      clearInterval(sweep);
      clearInterval(rescanTimer);
    },
  };
}
