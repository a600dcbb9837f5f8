import type { Config } from '../config/schema.ts';

/** What `rampart start` prints once it serves: where it listens and the next two steps. */
export function welcomeText(
  config: Config,
  ports: { c2s: number; c2sTls: number; https: number },
): string {
  const dataDir = config.data_dir;
  const host = config.bind === '0.0.0.0' || config.bind === '::' ? '127.0.0.1' : config.bind;
  return [
    `Rampart is serving ${config.domain}`,
    `  XMPP (STARTTLS)   ${host}:${ports.c2s}`,
    `  XMPP (direct TLS) ${host}:${ports.c2sTls}`,
    `  HTTPS             https://${host}:${ports.https}/healthz`,
    `  data              ${dataDir}`,
    '',
    'Add a user (from another terminal):',
    `  echo 'a-long-password' | npx rampart user add alice@${config.domain} --password-stdin --data-dir ${dataDir}`,
    'Connect any XMPP client (Gajim, Dino, Conversations, profanity) as that JID,',
    `with server ${host} and port ${ports.c2s}; accept the self-signed certificate or set --cert/--key.`,
    '',
  ].join('\n');
}
