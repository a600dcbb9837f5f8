import type { ServerContext } from '../../server/context.ts';
import { StanzaError } from '../../stanza/errors.ts';
import { Jid } from '../../stanza/jid.ts';
import type { StoredFile } from '../../storage/ports.ts';
import { serverNotice } from '../../threat/server-notice.ts';
import { type ScanOutcome, SlotRefused, type UploadService } from '../../upload/service.ts';
import { type XmlElement, x } from '../../xml/element.ts';

export const NS_UPLOAD = 'urn:xmpp:http:upload:0';
const NS_DATA = 'jabber:x:data';

/**
 * XEP-0363 HTTP File Upload, served by the domain itself: its disco#info carries the
 * store/file identity, the feature and the max-file-size form, which is what Conversations,
 * Gajim and slixmpp's xep_0363 look for on the server before they try its items.
 */
export function uploadModule(
  ctx: ServerContext,
  service: UploadService,
): { disco: () => XmlElement[] } {
  ctx.router.onHostIq('get', NS_UPLOAD, async (iq, req) => {
    const request = iq.getChild('request', NS_UPLOAD)!;
    const filename = request.attrs.filename;
    const size = Number(request.attrs.size);
    if (filename === undefined || filename === '' || request.attrs.size === undefined) {
      throw new StanzaError('bad-request', 'a slot request needs filename and size');
    }
    try {
      const slot = await service.requestSlot(req.from.bare, {
        filename,
        size,
        contentType: request.attrs['content-type'],
      });
      return x(
        'slot',
        { xmlns: NS_UPLOAD },
        x(
          'put',
          { url: slot.put },
          ...Object.entries(slot.headers).map(([name, value]) => x('header', { name }, value)),
        ),
        x('get', { url: slot.get }),
      );
    } catch (err) {
      if (!(err instanceof SlotRefused)) throw err;
      if (err.kind === 'too-large') {
        throw new StanzaError(
          'not-acceptable',
          err.message,
          x(
            'file-too-large',
            { xmlns: NS_UPLOAD },
            x('max-file-size', {}, String(ctx.config.upload.max_file_size)),
          ),
        );
      }
      if (err.kind === 'quota') throw new StanzaError('resource-constraint', err.message);
      throw new StanzaError('bad-request', err.message);
    }
  });

  return {
    disco: () => [
      x('identity', { category: 'store', type: 'file', name: 'HTTP File Upload' }),
      x(
        'x',
        { xmlns: NS_DATA, type: 'result' },
        x('field', { var: 'FORM_TYPE', type: 'hidden' }, x('value', {}, NS_UPLOAD)),
        x(
          'field',
          { var: 'max-file-size' },
          x('value', {}, String(ctx.config.upload.max_file_size)),
        ),
      ),
    ],
  };
}

/**
 * After a scan: one security event per finding (hash, real type, rule, verdict), and for a
 * blocked file a labelled notice to the uploader saying why.
 */
export function reportScan(
  ctx: ServerContext,
  file: StoredFile,
  scan: ScanOutcome,
  rescan = false,
): void {
  for (const f of scan.findings) {
    ctx.events.record({
      threat: f.rule.startsWith('files.clamav') || f.rule === 'files.eicar' ? 'T2' : 'T3',
      rule: f.rule,
      actor: file.owner,
      target: `file:${file.id}`,
      verdict: f.mode === 'block' ? 'quarantine' : 'allow',
      evidence: {
        sha256: file.sha256,
        name: file.name,
        size: file.size,
        declaredType: file.contentType,
        realType: scan.detectedType ?? null,
        mode: f.mode,
        reason: f.reason,
        ...(f.entry === undefined ? {} : { entry: f.entry }),
        ...(rescan ? { rescan: true } : {}),
        ...f.evidence,
      },
    });
  }
  if (scan.verdict === 'clean') return;
  const notice = serverNotice(
    ctx.domain,
    file.owner,
    rescan
      ? `Your upload "${file.name}" failed a new scan and can no longer be downloaded: ${scan.reason}. Messages that linked it are being taken back.`
      : `Your upload "${file.name}" was blocked and will not be delivered: ${scan.reason}.`,
    { threat: 'T3', rule: scan.rule ?? 'files.blocked' },
  );
  // Every session of the uploader hears it, available or not; with none, it waits offline.
  const owner = Jid.parse(file.owner);
  if (ctx.sessions.count(file.owner) > 0) ctx.router.sendTo(owner, notice);
  else {
    Promise.resolve(ctx.router.deliverAdmitted(notice, owner)).catch((err: unknown) =>
      ctx.log.warn({ err }, 'could not deliver the upload notice'),
    );
  }
}
