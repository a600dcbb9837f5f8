import { z } from 'zod';

/**
 * The one configuration schema: every key, its type, bounds, default and meaning.
 * The config file (TOML), RAMPART_* environment variables and CLI flags all feed it;
 * docs/config.md is written from it by `npm run docs:config`.
 */

const port = z.number().int().min(0).max(65535);
const positive = z.number().int().positive();

export const configSchema = z
  .object({
    domain: z.string().min(1).default('localhost').describe('The XMPP domain this server serves.'),
    data_dir: z
      .string()
      .min(1)
      .default('./data')
      .describe('Directory for the SQLite database, generated certificates and the control socket.'),
    bind: z.string().min(1).default('0.0.0.0').describe('Address every listener binds to.'),
    pid_file: z.string().optional().describe('Write the serving process id to this file.'),
    log_level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Log verbosity (pino levels).'),

    c2s_port: port.default(5222).describe('Client-to-server port with STARTTLS (RFC 6120).'),
    c2s_tls_port: port.default(5223).describe('Client-to-server port with direct TLS (XEP-0368).'),
    https_port: port.default(5443).describe('HTTPS port (health check, later WebSocket and upload).'),

    tls: z
      .object({
        cert: z.string().optional().describe('PEM certificate chain; a self-signed one is made in data_dir when unset.'),
        key: z.string().optional().describe('PEM private key for `cert`.'),
        min_version: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Oldest TLS version accepted.'),
      })
      .strict()
      .prefault({}),

    auth: z
      .object({
        mechanisms: z
          .array(z.enum(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1', 'PLAIN']))
          .min(1)
          .default(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1'])
          .describe('SASL mechanisms offered, in order of preference.'),
        allow_plain: z.boolean().default(false).describe('Offer PLAIN (over TLS only). Off by default.'),
        scram_iterations: z.number().int().min(4096).max(1_000_000).default(10000).describe('PBKDF2 iterations for new credentials.'),
        max_failures: z.number().int().min(1).max(100).default(5).describe('Failures per account or address before back-off starts.'),
        backoff_base_ms: z.number().int().min(100).max(60_000).default(1000).describe('First back-off delay; doubles with each further failure.'),
        backoff_max_ms: z.number().int().min(1000).max(86_400_000).default(15 * 60_000).describe('Longest back-off delay.'),
        failure_window_s: z.number().int().min(10).max(86_400).default(900).describe('How long a failure is remembered.'),
      })
      .strict()
      .prefault({}),

    password_policy: z
      .object({
        min_length: z.number().int().min(1).max(1024).default(8).describe('Shortest password accepted.'),
        max_length: z.number().int().min(8).max(4096).default(1024).describe('Longest password accepted.'),
      })
      .strict()
      .prefault({}),

    limits: z
      .object({
        max_stanza_bytes: positive.max(16 * 1024 * 1024).default(256 * 1024).describe('Largest stanza accepted, in bytes.'),
        max_depth: positive.max(1000).default(32).describe('Deepest element nesting inside a stanza.'),
        max_attributes: positive.max(1000).default(64).describe('Most attributes on one element.'),
        max_text_bytes: positive.max(16 * 1024 * 1024).default(128 * 1024).describe('Longest text node.'),
        unauthenticated_timeout_s: positive.max(600).default(30).describe('Close streams that have not authenticated within this time.'),
        max_connections_per_address: positive.max(1_000_000).default(64).describe('Concurrent connections from one IP address.'),
        session_stanzas_per_s: positive.default(50).describe('Sustained stanzas per second per session (token bucket rate).'),
        session_stanza_burst: positive.default(200).describe('Stanza bucket size per session.'),
        session_bytes_per_s: positive.default(64 * 1024).describe('Sustained bytes per second read from one session.'),
        session_byte_burst: positive.default(512 * 1024).describe('Byte bucket size per session.'),
        account_stanzas_per_s: positive.default(100).describe('Sustained stanzas per second summed over an account\'s sessions.'),
        account_stanza_burst: positive.default(400).describe('Stanza bucket size per account.'),
        ping_interval_s: positive.max(3600).default(30).describe('Ping a silent client after this many seconds (XEP-0199).'),
        ping_timeout_s: positive.max(600).default(30).describe('Close the session if the ping is not answered within this time.'),
        max_offline_messages: positive.default(1000).describe('Offline messages kept per account; more are refused.'),
        max_resources_per_account: positive.max(1000).default(10).describe('Concurrent sessions per account.'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
