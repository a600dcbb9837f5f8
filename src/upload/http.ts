import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { type HttpHandler, sendJson } from '../http/routes.ts';
import type { FileStore, StoredFile } from '../storage/ports.ts';
import { type ScanOutcome, UPLOAD_PATH, UploadFailed, type UploadService } from './service.ts';
import { verifyPartyToken } from './slot-token.ts';

/** Types a browser may show inline; everything else is served as an opaque attachment. */
const INLINE_TYPES = /^(image\/(png|jpeg|gif|webp|avif)|video\/(mp4|webm|ogg)|audio\/[\w.+-]+)$/;

export interface UploadHttpDeps {
  service: UploadService;
  files: FileStore;
  signKey: Buffer;
  downloadAccess: 'link' | 'party';
  /** Told about every finished upload, clean or not (events, notices). */
  onScanned(file: StoredFile, scan: ScanOutcome): void;
}

/** PUT (upload into a slot), GET/HEAD (download a clean file) and CORS for web clients. */
export function uploadHttpHandler(deps: UploadHttpDeps): HttpHandler {
  return async (req, res, path) => {
    res.setHeader('access-control-allow-origin', '*');
    const [id = '', ...rest] = path.slice(UPLOAD_PATH.length).split('/');
    if (!/^[\w-]{16,64}$/.test(id) || rest.length !== 1) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    switch (req.method) {
      case 'OPTIONS':
        res.setHeader('access-control-allow-methods', 'GET, HEAD, PUT, OPTIONS');
        res.setHeader('access-control-allow-headers', 'Authorization, Content-Type');
        res.setHeader('access-control-max-age', '86400');
        res.statusCode = 204;
        res.end();
        return;
      case 'PUT':
        return put(deps, req, res, id);
      case 'GET':
      case 'HEAD':
        return get(deps, req, res, id);
      default:
        res.setHeader('allow', 'GET, HEAD, PUT, OPTIONS');
        sendJson(res, 405, { error: 'method not allowed' });
    }
  };
}

async function put(
  deps: UploadHttpDeps,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
): Promise<void> {
  const auth = req.headers.authorization;
  const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
  const length = req.headers['content-length'];
  const declared = length === undefined ? undefined : Number(length);
  try {
    const { file, scan } = await deps.service.receive(
      id,
      bearer,
      Number.isSafeInteger(declared) ? declared : undefined,
      req,
    );
    deps.onScanned(file, scan);
    if (scan.verdict === 'clean') {
      sendJson(res, 201, { url: deps.service.downloadUrl(file) });
      return;
    }
    sendJson(res, 403, {
      error: `upload blocked: ${file.verdictReason ?? 'the file was blocked'}`,
      rule: file.verdictRule,
    });
  } catch (err) {
    if (!(err instanceof UploadFailed)) throw err;
    // The body was not read: close the connection rather than drain a large upload.
    res.setHeader('connection', 'close');
    sendJson(res, err.status, { error: err.message });
  }
}

async function get(
  deps: UploadHttpDeps,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
): Promise<void> {
  const file = await deps.files.get(id);
  if (file === undefined || file.expiresAt <= Date.now() || file.status === 'slot') {
    sendJson(res, 404, { error: 'no such file (it may have expired)' });
    return;
  }
  if (deps.downloadAccess === 'party' && !mayDownload(deps, req, file)) {
    sendJson(res, 403, {
      error: 'this link is for the people the file was sent to; ask the sender for it',
    });
    return;
  }
  if (file.status === 'quarantined') {
    sendJson(res, 403, {
      error: `this file was blocked: ${file.verdictReason ?? 'it failed a scan'}`,
      rule: file.verdictRule,
    });
    return;
  }
  if (file.status !== 'clean') {
    sendJson(res, 404, { error: 'this file is not available yet (upload or scan not finished)' });
    return;
  }
  const inline = INLINE_TYPES.test(file.contentType);
  res.statusCode = 200;
  res.setHeader('content-type', inline ? file.contentType : 'application/octet-stream');
  res.setHeader('content-length', String(file.size));
  res.setHeader(
    'content-disposition',
    `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.name)}`,
  );
  res.setHeader('content-security-policy', "default-src 'none'; sandbox");
  res.setHeader('cache-control', 'private, max-age=3600');
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await pipeline(deps.service.read(file), res);
}

function mayDownload(deps: UploadHttpDeps, req: IncomingMessage, file: StoredFile): boolean {
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  const party = query.get('for');
  const sig = query.get('sig');
  return party !== null && sig !== null && verifyPartyToken(deps.signKey, file.id, party, sig);
}
