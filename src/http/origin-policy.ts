import type { Config } from '../config/schema.ts';

/**
 * Which web pages may open an XMPP WebSocket (RFC 7395 §5, RFC 6455 §10.2). Browsers always
 * send Origin and a page cannot forge it, so it is what stops a foreign site from driving
 * a visitor's browser against this server. Clients without an Origin are not browsers.
 */
export function originAllowed(
  origin: string | undefined,
  requestHost: string | undefined,
  config: Config,
  domain: string,
): boolean {
  if (origin === undefined) return true;
  const allowed = config.websocket.allowed_origins;
  if (allowed.includes('*')) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // includes the opaque origin "null"
  }
  if (allowed.some((a) => sameOrigin(a, url))) return true;
  if (url.protocol !== 'https:') return false;
  // The server's own pages: the XMPP domain (any port), the host the WebSocket was asked of,
  // and the host of the announced public URL.
  if (url.hostname === domain) return true;
  if (requestHost !== undefined && url.host === requestHost.toLowerCase()) return true;
  const publicUrl = config.websocket.public_url;
  return publicUrl !== undefined && url.hostname === new URL(publicUrl).hostname;
}

function sameOrigin(configured: string, url: URL): boolean {
  try {
    return new URL(configured).origin === url.origin;
  } catch {
    return false;
  }
}
