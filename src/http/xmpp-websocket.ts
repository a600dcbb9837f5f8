import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import type { ServerContext } from '../server/context.ts';
import { C2sStream } from '../stream/c2s-stream.ts';
import type { ConnectionsPerAddress } from '../transport/address-limit.ts';
import { normalizeAddress } from '../transport/address-limit.ts';
import { WebSocketTransport } from '../transport/websocket-transport.ts';
import { hostMetaJson, hostMetaXml, WEBSOCKET_PATH, websocketUrl } from './host-meta.ts';
import { originAllowed } from './origin-policy.ts';
import { type HttpRoutes, refuseUpgrade as refuse, sendJson } from './routes.ts';

/** Room for the open/close framing and namespace declarations around the largest stanza. */
const FRAME_MARGIN_BYTES = 4096;

/**
 * XMPP over WebSocket (RFC 7395) at /xmpp-websocket and its discovery (XEP-0156). The
 * connection becomes a C2sStream like any TCP one, sharing its stream set (liveness,
 * shutdown) and the per-address connection cap.
 */
export function xmppWebSocketFeature(
  ctx: ServerContext,
  c2s: { streams: Set<C2sStream>; perAddress: ConnectionsPerAddress },
  routes: HttpRoutes,
): void {
  const config = ctx.config;
  if (!config.websocket.enabled) return;
  const wss = new WebSocketServer({
    noServer: true,
    // Frames a little over the stanza limit reach the parser and get a stream error;
    // anything bigger is cut at the WebSocket layer (close code 1009) before it is buffered.
    maxPayload: config.limits.max_stanza_bytes + FRAME_MARGIN_BYTES,
    perMessageDeflate: false,
    handleProtocols: () => 'xmpp',
  });
  wss.on('wsClientError', (_err, socket) => socket.destroy());

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const address = normalizeAddress(req.socket.remoteAddress);
    const origin = req.headers.origin;
    if (!originAllowed(origin, req.headers.host, config, ctx.domain)) {
      ctx.events.record({
        threat: 'T4',
        rule: 'websocket.origin',
        actor: address,
        address,
        verdict: 'refuse',
        evidence: { origin: origin?.slice(0, 300) },
      });
      return refuse(
        socket,
        403,
        `Web pages from ${origin?.slice(0, 100)} may not connect to this XMPP server; an administrator can allow them in websocket.allowed_origins.`,
      );
    }
    const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes('xmpp')) {
      return refuse(
        socket,
        400,
        "This endpoint speaks the WebSocket subprotocol 'xmpp' (RFC 7395).",
      );
    }
    const release = c2s.perAddress.admit(address, 'websocket');
    if (!release) return refuse(socket, 429, 'Too many connections from your address.');
    socket.once('close', release);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', (err: Error & { code?: string }) => {
        if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
          ctx.events.record({
            threat: 'T5',
            rule: 'websocket.frame-size',
            actor: address,
            address,
            verdict: 'close',
            evidence: { maxPayload: wss.options.maxPayload },
          });
        }
      });
      const transport = new WebSocketTransport(ws, req.socket as TLSSocket, {
        serverEndPoint: ctx.tls.serverEndPoint,
        channelBinding: config.websocket.channel_binding,
      });
      c2s.streams.add(new C2sStream(ctx, transport, (s) => c2s.streams.delete(s)));
    });
  };

  routes.addUpgrade(WEBSOCKET_PATH, upgrade);
  // The prefix also matches host-meta.json.
  routes.add('/.well-known/host-meta', (req, res, path) => {
    const json = path === '/.well-known/host-meta.json';
    if (!json && path !== '/.well-known/host-meta')
      return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendJson(res, 405, { error: 'method not allowed' });
    const url = websocketUrl(config, ctx.domain, req.headers.host);
    res.statusCode = 200;
    // XEP-0156 §3: web clients on other origins read it too.
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('content-type', json ? 'application/json' : 'application/xrd+xml; charset=utf-8');
    res.end(req.method === 'HEAD' ? undefined : json ? hostMetaJson(url) : hostMetaXml(url));
  });
}
