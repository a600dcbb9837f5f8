import type { HttpRoutes } from '../http/routes.ts';
import { reportScan, uploadModule } from '../modules/upload/index.ts';
import type { ServerContext } from '../server/context.ts';
import { Jid } from '../stanza/jid.ts';
import type { XmlElement } from '../xml/element.ts';
import { uploadHttpHandler } from './http.ts';
import { loadUploadKeys } from './master-key.ts';
import { fileLinkLabeller } from './message-links.ts';
import { partyLinkRewriter } from './party-links.ts';
import { createFileScanner } from './scan/pipeline.ts';
import { UPLOAD_PATH, UploadService } from './service.ts';

export interface UploadFeature {
  /** What the domain's disco#info adds (identity and max-file-size form); empty when off. */
  disco(): XmlElement[];
  /** Once the HTTPS port is known: sets the URL origin and starts the expiry sweep. */
  start(httpsPort: number): void;
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
  return {
    disco,
    service,
    start(httpsPort) {
      service.origin = config.upload.public_url ?? `https://${ctx.domain}:${httpsPort}`;
      service
        .loadCleanHashes()
        .catch((err: unknown) => ctx.log.warn({ err }, 'could not load upload hashes'));
      sweep = setInterval(() => {
        service.sweep().catch((err: unknown) => ctx.log.warn({ err }, 'upload sweep failed'));
      }, 60_000);
      sweep.unref();
    },
    stop() {
      clearInterval(sweep);
    },
  };
}
