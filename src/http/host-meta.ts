import type { Config } from '../config/schema.ts';
import { escapeAttr } from '../xml/element.ts';

/** XEP-0156 link relation of an RFC 7395 endpoint. */
export const REL_WEBSOCKET = 'urn:xmpp:alt-connections:websocket';
export const WEBSOCKET_PATH = '/xmpp-websocket';

/** A Host header we are willing to echo into a URL: a host name or address and a port. */
const HOST_HEADER = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The wss:// URL clients should use: `websocket.public_url`, or the host the client reached
 * us at (it came through whatever name and port the client knows), else domain and port.
 */
export function websocketUrl(
  config: Config,
  domain: string,
  hostHeader: string | undefined,
): string {
  if (config.websocket.public_url) return config.websocket.public_url;
  const host =
    hostHeader !== undefined && HOST_HEADER.test(hostHeader)
      ? hostHeader
      : `${domain}:${config.https_port}`;
  return `wss://${host}${WEBSOCKET_PATH}`;
}

/** /.well-known/host-meta (XRD, RFC 6415). */
export function hostMetaXml(url: string): string {
  return `<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n  <Link rel='${REL_WEBSOCKET}' href='${escapeAttr(url)}'/>\n</XRD>\n`;
}

/** /.well-known/host-meta.json (JRD, RFC 6415 appendix A). */
export function hostMetaJson(url: string): string {
  return `${JSON.stringify({ links: [{ rel: REL_WEBSOCKET, href: url }] })}\n`;
}
