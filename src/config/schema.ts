import { z } from 'zod';

/**
 * The one configuration schema: every key, its type, bounds, default and meaning.
 * The config file (TOML), RAMPART_* environment variables and CLI flags all feed it;
 * docs/config.md is written from it by `npm run docs:config`.
 */

const port = z.number().int().min(0).max(65535);
const positive = z.number().int().positive();
/** A defence rule's mode: act on it, only record it, or skip it. */
const ruleMode = z.enum(['off', 'monitor', 'enforce']);

/** Real types (file-type extensions) refused by default: programs, installers, shortcuts. */
const DEFAULT_BLOCKED_TYPES = [
  'exe',
  'elf',
  'macho',
  'msi',
  'lnk',
  'dmg',
  'apk',
  'script',
  'docm',
  'xlsm',
  'pptm',
  'dotm',
  'xltm',
  'potm',
  'ppsm',
];

/** Name extensions refused by default: programs, scripts, installers, shortcuts, macro office files. */
const DEFAULT_BLOCKED_EXTENSIONS = [
  'exe',
  'dll',
  'scr',
  'com',
  'pif',
  'cpl',
  'sys',
  'msi',
  'msp',
  'msix',
  'appx',
  'lnk',
  'url',
  'bat',
  'cmd',
  'ps1',
  'psm1',
  'vbs',
  'vbe',
  'js',
  'jse',
  'wsf',
  'wsh',
  'hta',
  'jar',
  'sh',
  'app',
  'dmg',
  'pkg',
  'apk',
  'iso',
  'img',
  'vhd',
  'vhdx',
  'reg',
  'docm',
  'dotm',
  'xlsm',
  'xltm',
  'xlam',
  'pptm',
  'potm',
  'ppsm',
  'ppam',
  'sldm',
];

export const configSchema = z
  .object({
    domain: z.string().min(1).default('localhost').describe('The XMPP domain this server serves.'),
    data_dir: z
      .string()
      .min(1)
      .default('./data')
      .describe(
        'Directory for the SQLite database, generated certificates and the control socket.',
      ),
    bind: z.string().min(1).default('0.0.0.0').describe('Address every listener binds to.'),
    pid_file: z.string().optional().describe('Write the serving process id to this file.'),
    log_level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Log verbosity (pino levels).'),

    c2s_port: port.default(5222).describe('Client-to-server port with STARTTLS (RFC 6120).'),
    c2s_tls_port: port.default(5223).describe('Client-to-server port with direct TLS (XEP-0368).'),
    https_port: port
      .default(5443)
      .describe('HTTPS port (health check, XMPP over WebSocket, file upload).'),

    tls: z
      .object({
        cert: z
          .string()
          .optional()
          .describe('PEM certificate chain; a self-signed one is made in data_dir when unset.'),
        key: z.string().optional().describe('PEM private key for `cert`.'),
        min_version: z
          .enum(['TLSv1.2', 'TLSv1.3'])
          .default('TLSv1.2')
          .describe('Oldest TLS version accepted.'),
      })
      .strict()
      .prefault({}),

    auth: z
      .object({
        mechanisms: z
          .array(
            z.enum([
              'SCRAM-SHA-256-PLUS',
              'SCRAM-SHA-256',
              'SCRAM-SHA-1-PLUS',
              'SCRAM-SHA-1',
              'PLAIN',
            ]),
          )
          .min(1)
          .default(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1'])
          .describe('SASL mechanisms offered, in order of preference.'),
        allow_plain: z
          .boolean()
          .default(false)
          .describe('Offer PLAIN (over TLS only). Off by default.'),
        scram_iterations: z
          .number()
          .int()
          .min(4096)
          .max(1_000_000)
          .default(10000)
          .describe('PBKDF2 iterations for new credentials.'),
        max_failures: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(5)
          .describe('Failures per account or address before back-off starts.'),
        backoff_base_ms: z
          .number()
          .int()
          .min(100)
          .max(60_000)
          .default(1000)
          .describe('First back-off delay; doubles with each further failure.'),
        backoff_max_ms: z
          .number()
          .int()
          .min(1000)
          .max(86_400_000)
          .default(15 * 60_000)
          .describe('Longest back-off delay.'),
        failure_window_s: z
          .number()
          .int()
          .min(10)
          .max(86_400)
          .default(900)
          .describe('How long a failure is remembered.'),
      })
      .strict()
      .prefault({}),

    password_policy: z
      .object({
        min_length: z
          .number()
          .int()
          .min(1)
          .max(1024)
          .default(8)
          .describe('Shortest password accepted.'),
        max_length: z
          .number()
          .int()
          .min(8)
          .max(4096)
          .default(1024)
          .describe('Longest password accepted.'),
      })
      .strict()
      .prefault({}),

    limits: z
      .object({
        max_stanza_bytes: positive
          .max(16 * 1024 * 1024)
          .default(256 * 1024)
          .describe('Largest stanza accepted, in bytes.'),
        max_depth: positive
          .max(1000)
          .default(32)
          .describe('Deepest element nesting inside a stanza.'),
        max_attributes: positive.max(1000).default(64).describe('Most attributes on one element.'),
        max_text_bytes: positive
          .max(16 * 1024 * 1024)
          .default(128 * 1024)
          .describe('Longest text node.'),
        unauthenticated_timeout_s: positive
          .max(600)
          .default(30)
          .describe('Close streams that have not authenticated within this time.'),
        max_connections_per_address: positive
          .max(1_000_000)
          .default(64)
          .describe('Concurrent connections from one IP address.'),
        session_stanzas_per_s: positive
          .default(50)
          .describe('Sustained stanzas per second per session (token bucket rate).'),
        session_stanza_burst: positive.default(200).describe('Stanza bucket size per session.'),
        session_bytes_per_s: positive
          .default(64 * 1024)
          .describe('Sustained bytes per second read from one session.'),
        session_byte_burst: positive.default(512 * 1024).describe('Byte bucket size per session.'),
        account_stanzas_per_s: positive
          .default(100)
          .describe("Sustained stanzas per second summed over an account's sessions."),
        account_stanza_burst: positive.default(400).describe('Stanza bucket size per account.'),
        account_bytes_per_s: positive
          .default(128 * 1024)
          .describe("Sustained bytes per second summed over an account's sessions."),
        account_byte_burst: positive.default(1024 * 1024).describe('Byte bucket size per account.'),
        ping_interval_s: positive
          .max(3600)
          .default(25)
          .describe('Ping a silent client after this many seconds (XEP-0199).'),
        ping_timeout_s: positive
          .max(600)
          .default(25)
          .describe('Close the session if the ping is not answered within this time.'),
        max_offline_messages: positive
          .default(1000)
          .describe('Offline messages kept per account; more are refused.'),
        max_resources_per_account: positive
          .max(1000)
          .default(10)
          .describe('Concurrent sessions per account.'),
      })
      .strict()
      .prefault({}),

    flood: z
      .object({
        mode: z
          .enum(['off', 'monitor', 'enforce'])
          .default('enforce')
          .describe(
            "Flood shield (T5): `enforce` holds the excess and delivers it at the budget's pace, `monitor` only records what it would hold.",
          ),
        recipient_messages_per_s: positive
          .max(100_000)
          .default(30)
          .describe('Messages per second one account may receive from other accounts, together.'),
        recipient_burst: positive
          .max(1_000_000)
          .default(120)
          .describe('Messages an account may receive at once before its budget applies.'),
        sender_messages_per_s: positive
          .max(100_000)
          .default(20)
          .describe(
            'Messages per second an account may send (to anyone) before the excess is held, unless its usual rate times `sender_normal_factor` is higher.',
          ),
        sender_burst: positive
          .max(1_000_000)
          .default(100)
          .describe('Messages an account may send at once before its sending budget applies.'),
        sender_normal_factor: z
          .number()
          .min(1)
          .max(1000)
          .default(10)
          .describe(
            "How far above an account's usual sending rate (learned over the last minutes) it may go before the excess is held.",
          ),
        max_held_per_recipient: positive
          .max(1_000_000)
          .default(2000)
          .describe(
            'Held messages kept in memory per recipient; more go to offline storage (bounded by `limits.max_offline_messages`), beyond that they are refused.',
          ),
        max_held_per_sender: positive
          .max(1_000_000)
          .default(2000)
          .describe(
            'Messages of one account held (in memory) for going far above its usual rate; beyond, it gets an error for each further one.',
          ),
        max_held_total: positive
          .max(10_000_000)
          .default(100_000)
          .describe('Held messages kept in memory for all recipients together.'),
        notice_interval_s: positive
          .max(86_400)
          .default(60)
          .describe(
            'Shortest time between two flood events or notices about the same account: a longer flood is one episode.',
          ),
      })
      .strict()
      .prefault({}),

    upload: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe('Offer HTTP File Upload (XEP-0363) on the HTTPS port.'),
        public_url: z
          .string()
          .regex(
            /^https:\/\/[^/?#]+$/,
            'an https:// origin without a path, e.g. https://chat.example.com:5443',
          )
          .optional()
          .describe(
            'Origin clients use for upload and download URLs; default https://DOMAIN:HTTPS_PORT.',
          ),
        dir: z
          .string()
          .optional()
          .describe('Directory for uploaded files (encrypted at rest); default DATA_DIR/uploads.'),
        max_file_size: positive
          .default(100 * 1024 * 1024)
          .describe('Largest file accepted, in bytes (announced in disco).'),
        quota_bytes: positive
          .default(1024 * 1024 * 1024)
          .describe('Bytes one account may hold at once (pending slots included).'),
        slot_ttl_s: positive
          .max(86_400)
          .default(300)
          .describe('A slot not used within this time is void.'),
        file_ttl_s: positive
          .default(30 * 86_400)
          .describe('Uploaded files are deleted this long after upload.'),
        put_timeout_s: positive
          .max(86_400)
          .default(3600)
          .describe('Longest time one upload (PUT) may take.'),
        download_access: z
          .enum(['link', 'party'])
          .default('link')
          .describe(
            '`link`: anyone with the (unguessable) URL may download. `party`: only the uploader and the accounts the uploader sent the link to (per-recipient signed URLs, see docs/files.md).',
          ),
      })
      .strict()
      .prefault({}),

    upload_scan: z
      .object({
        name_mismatch: ruleMode
          .default('enforce')
          .describe(
            'A file whose real type (magic bytes) is of another kind than its name says (a program named .jpg).',
          ),
        type_policy: ruleMode
          .default('enforce')
          .describe('Files (or archive entries) of a blocked type or extension.'),
        blocked_types: z
          .array(z.string().min(1))
          .default([...DEFAULT_BLOCKED_TYPES])
          .describe(
            'Real types refused (file-type extensions, plus `script` for #! files), found by magic bytes.',
          ),
        blocked_extensions: z
          .array(z.string().min(1))
          .default([...DEFAULT_BLOCKED_EXTENSIONS])
          .describe('File name extensions refused, lower case without the dot.'),
        archive: ruleMode
          .default('enforce')
          .describe(
            'Archive inspection: zip bombs, encrypted entries, nesting deeper than the limit.',
          ),
        max_archive_depth: positive
          .max(10)
          .default(3)
          .describe('Archives inside archives are opened to this depth; deeper is refused.'),
        max_archive_entries: positive
          .default(10_000)
          .describe('Most entries inspected in one upload (all archive levels together).'),
        max_expanded_bytes: positive
          .default(1024 * 1024 * 1024)
          .describe('Largest total uncompressed size of an archive (zip bomb guard).'),
        max_ratio: positive
          .max(100_000)
          .default(100)
          .describe('Largest uncompressed/compressed ratio of an archive entry over 1 MiB.'),
        uninspectable_archives: ruleMode
          .default('monitor')
          .describe('Archives Rampart cannot open (7z, rar): refused only when `enforce`.'),
        deny_list: ruleMode
          .default('enforce')
          .describe('Files whose SHA-256 is in `deny_sha256` (also inside archives).'),
        deny_sha256: z
          .array(z.string().regex(/^[0-9a-fA-F]{64}$/, 'a SHA-256 in hex (64 characters)'))
          .default([])
          .describe('SHA-256 hashes of known-bad files.'),
        clamav: ruleMode
          .default('enforce')
          .describe('Verdict of clamd, when `clamd_socket` or `clamd_host` is set.'),
        clamd_socket: z
          .string()
          .optional()
          .describe('Unix socket of clamd (LocalSocket in clamd.conf).'),
        clamd_host: z
          .string()
          .optional()
          .describe('Host of clamd over TCP (TCPSocket), when no socket is set.'),
        clamd_port: port.default(3310).describe('TCP port of clamd.'),
        clamd_timeout_ms: positive
          .max(600_000)
          .default(30_000)
          .describe('Longest wait for clamd (connect, stream and verdict).'),
        clamd_failure: z
          .enum(['closed', 'open'])
          .default('closed')
          .describe(
            'When clamd is down or times out: `closed` holds the file (safe default), `open` serves it after the other checks.',
          ),
      })
      .strict()
      .prefault({}),

    websocket: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe('Serve XMPP over WebSocket (RFC 7395) at /xmpp-websocket on the HTTPS port.'),
        allowed_origins: z
          .array(z.string().min(1).max(300))
          .max(1000)
          .default([])
          .describe(
            "Web page origins (e.g. https://chat.example.com) allowed to open a WebSocket, besides the server's own (https://<domain> on any port, and the host the WebSocket is requested at); `*` allows any. Clients that send no Origin (not browsers) are always allowed.",
          ),
        public_url: z
          .string()
          .regex(/^wss:\/\/[^\s"'<>]+$/, 'a wss:// URL')
          .optional()
          .describe(
            'WebSocket URL announced by /.well-known/host-meta (XEP-0156); by default wss://<Host header>/xmpp-websocket.',
          ),
        channel_binding: z
          .boolean()
          .default(true)
          .describe(
            "Offer SCRAM-*-PLUS over WebSocket. Turn off behind a TLS-terminating proxy, where the client's TLS ends at the proxy and no binding can match.",
          ),
      })
      .strict()
      .prefault({}),

    policy: z
      .object({
        default_mode: ruleMode
          .default('enforce')
          .describe('Mode of every threat rule not named in policy.modes.'),
        modes: z
          .object({
            stranger: ruleMode
              .optional()
              .describe(
                "T1: messages from people not in the recipient's contacts are held as contact requests; per-hour limit on strangers contacted.",
              ),
            content: ruleMode
              .optional()
              .describe(
                'T5/T9 content guard: bidi overrides, invisible runs, zalgo, emoji walls, huge words.',
              ),
            url: ruleMode
              .optional()
              .describe('T2/T9 URL inspector: suspicious and dangerous links.'),
            file_offer: ruleMode
              .optional()
              .describe('T2: programs, disguised names and archives offered as files.'),
            dlp: ruleMode
              .optional()
              .describe('T3/T6: secrets and trojan-style machine reports sent to strangers.'),
            classifier: ruleMode.optional().describe('T1: the spam and phishing classifier.'),
            markup: ruleMode
              .optional()
              .describe('T9: strip XHTML-IM and other executable markup from delivered messages.'),
            fanout: ruleMode
              .optional()
              .describe(
                'T2: fan-out quarantine, outbreak blocks and server-wide artefact blocks (policy.outbreak).',
              ),
          })
          .strict()
          .prefault({}),
        shared_groups: z
          .record(z.string().min(1).max(64), z.array(z.string().min(1).max(1023)).max(10_000))
          .default({})
          .describe(
            'Named groups whose members are each other\'s contacts for the stranger policy; a member is a bare JID or a whole domain, e.g. `staff = ["example.com"]`.',
          ),
        events_include_text: z
          .boolean()
          .default(false)
          .describe('Put the first 1000 characters of the message in security events.'),
        content_guard: z
          .object({
            max_word_bytes: positive
              .max(1024 * 1024)
              .default(4096)
              .describe('Longest unbroken "word", in bytes, before a body is refused.'),
            max_zero_width_run: positive
              .max(1000)
              .default(3)
              .describe('Run of invisible characters at which a body is refused.'),
            max_combining_ratio: z
              .number()
              .positive()
              .max(100)
              .default(2)
              .describe('Combining marks per letter above which a body is refused (zalgo).'),
            max_emoji_ratio: z
              .number()
              .positive()
              .max(1)
              .default(0.5)
              .describe('Share of emoji among visible characters above which a body is refused.'),
            min_emoji_count: positive
              .max(100_000)
              .default(40)
              .describe('Emoji needed before max_emoji_ratio applies.'),
          })
          .strict()
          .prefault({}),
        classifier: z
          .object({
            hold: z
              .number()
              .min(0)
              .max(1)
              .optional()
              .describe("Score at or above which a message is held; unset: the trained model's."),
            label: z
              .number()
              .min(0)
              .max(1)
              .optional()
              .describe("Score above which a message is labelled; unset: the trained model's."),
          })
          .strict()
          .prefault({}),
        stranger: z
          .object({
            hourly_limit: positive
              .max(100_000)
              .default(50)
              .describe(
                'Distinct strangers one account may write to per hour; the next is refused.',
              ),
            new_account_hourly_limit: positive
              .max(100_000)
              .default(10)
              .describe('The same limit for accounts younger than new_account_days.'),
            new_account_days: z
              .number()
              .int()
              .min(0)
              .max(3650)
              .default(7)
              .describe('Age in days below which an account counts as new.'),
            quarantine_after: positive
              .max(100_000)
              .default(25)
              .describe(
                'Strangers refused over the hourly limit, within the hour, after which the account is quarantined (a spam bot keeps going).',
              ),
            max_held_per_sender: positive
              .max(10_000)
              .default(20)
              .describe('Messages kept per contact request; further ones are refused.'),
            retention_days: positive
              .max(3650)
              .default(14)
              .describe('Held messages older than this are deleted.'),
          })
          .strict()
          .prefault({}),
        admins: z
          .array(z.string().min(3).max(3071))
          .max(1000)
          .default([])
          .describe(
            'Bare JIDs told by a message from the server when an account is quarantined or an artefact is blocked server-wide.',
          ),
        outbreak: z
          .object({
            fanout_recipients: positive
              .max(10_000)
              .default(5)
              .describe(
                'K: distinct recipients of one suspicious link, file or held text allowed within fanout_window_s; the next copy is refused and the sender quarantined.',
              ),
            fanout_window_s: positive
              .max(86_400)
              .default(60)
              .describe('W: the fan-out window, in seconds.'),
            outbreak_accounts: positive
              .max(10_000)
              .default(3)
              .describe(
                'M: accounts sending an artefact that got someone quarantined before it is blocked server-wide.',
              ),
            outbreak_window_h: positive
              .max(24 * 365)
              .default(24)
              .describe('How long such an artefact stays suspect and its senders are counted.'),
            purge_days: positive
              .max(365)
              .default(7)
              .describe(
                'Copies delivered this many days back are retracted when their artefact is blocked (the delivery log keeps as long).',
              ),
            trusted_domains: z
              .array(z.string().min(1).max(253))
              .max(10_000)
              .default([])
              .describe(
                "Domains (with their subdomains) whose links never quarantine nor get blocked by the detector, besides the server's own, internal and well-known ones.",
              ),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),

    p2p: z
      .object({
        file_transfer: z
          .enum(['refuse', 'contacts'])
          .default('refuse')
          .describe(
            'Peer-to-peer file transfer (Jingle file transfer, SI/SOCKS5 bytestreams, IBB, OOB with direct addresses): `refuse` answers every offer with an error pointing to HTTP upload; `contacts` lets it through where the sender may reach the recipient (an IQ to a resource needs an approved contact).',
          ),
        direct_candidates: z
          .enum(['strip', 'allow'])
          .default('strip')
          .describe(
            "Jingle transport candidates that carry a user's own IP address (ICE host, server- and peer-reflexive; SOCKS5 direct and assisted) are removed unless `allow` (T6); relayed candidates stay.",
          ),
      })
      .strict()
      .prefault({}),

    vcard: z
      .object({
        public: z
          .boolean()
          .default(false)
          .describe(
            'Let anyone read vCards (XEP-0054); when false only the owner and approved contacts can.',
          ),
      })
      .strict()
      .prefault({}),

    pep: z
      .object({
        max_nodes: positive
          .max(10_000)
          .default(200)
          .describe('Most PEP nodes (XEP-0163) one account may have.'),
        max_items: positive
          .max(100_000)
          .default(1000)
          .describe(
            'Most items one PEP node keeps; also what `pubsub#max_items = max` means (XEP-0402 bookmarks).',
          ),
        max_item_bytes: positive
          .max(16 * 1024 * 1024)
          .default(128 * 1024)
          .describe('Largest PEP item payload (serialized), e.g. a XEP-0084 avatar.'),
      })
      .strict()
      .prefault({}),

    stream_management: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe('Offer XEP-0198 stream management (acks and resumption) to clients.'),
        resume_timeout_s: z
          .number()
          .int()
          .min(0)
          .max(86_400)
          .default(300)
          .describe(
            'How long a session whose connection dropped stays resumable; its presence stays available and stanzas for it wait. 0 turns resumption off (acks stay on).',
          ),
        max_unacked: positive
          .max(100_000)
          .default(1000)
          .describe(
            "Most stanzas waiting for the client's ack (or for a resumption); past this the session is ended and its messages go to offline storage.",
          ),
        request_every: positive
          .max(10_000)
          .default(10)
          .describe('Ask the client for an ack (<r/>) after this many unacknowledged stanzas...'),
        request_after_ms: positive
          .max(600_000)
          .default(10_000)
          .describe('...or once a stanza has waited this long without an ack.'),
        write_ahead_after_ms: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .default(150)
          .describe(
            "How long a message to a session with acks may wait for the recipient's ack before it is written to storage in case of a crash; the sender's ack for it waits as long. Most messages are acked sooner and never touch the disk. 0 writes every one at once.",
          ),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

// ---------------------------------------------------------------------------------------
// Key catalogue: the loader (env/flag coercion, error messages) and docs/config.md are
// derived from the schema above, so a key added there is documented and settable at once.

/** CLI flag (without `--`) → dotted config key. */
export const configFlags: Readonly<Record<string, string>> = {
  domain: 'domain',
  'data-dir': 'data_dir',
  bind: 'bind',
  'c2s-port': 'c2s_port',
  'c2s-tls-port': 'c2s_tls_port',
  'https-port': 'https_port',
  cert: 'tls.cert',
  key: 'tls.key',
  'pid-file': 'pid_file',
  'log-level': 'log_level',
};

/** Keys holding file-system paths: relative ones are resolved (file dir or cwd). */
export const configPathKeys: ReadonlySet<string> = new Set([
  'data_dir',
  'pid_file',
  'tls.cert',
  'tls.key',
  'upload.dir',
]);

export type ConfigValueKind =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'enum'
  | 'list'
  /** A TOML table of named string lists (e.g. policy.shared_groups). */
  | 'table';

export interface ConfigKeyInfo {
  /** e.g. ['limits', 'max_stanza_bytes'] */
  path: readonly string[];
  /** e.g. 'limits.max_stanza_bytes' */
  key: string;
  kind: ConfigValueKind;
  /** Allowed values of an enum, or of a list's elements when they are an enum. */
  options?: readonly string[];
  /** Inclusive bounds: the value for numbers, the length for strings, the item count for lists. */
  min?: number;
  max?: number;
  /** undefined when the key is optional and unset by default. */
  default: unknown;
  description: string;
  /** e.g. 'RAMPART_LIMITS__MAX_STANZA_BYTES' */
  env: string;
  /** e.g. 'c2s-port' (without `--`), when the key has a flag. */
  flag?: string;
  isPath: boolean;
}

type AnySchema = z.ZodType;

function unwrapSchema(s: AnySchema): {
  inner: AnySchema;
  defaultValue: unknown;
  description?: string;
} {
  let inner = s;
  let defaultValue: unknown;
  let description = s.description;
  for (;;) {
    const def = inner.def as { type: string; innerType?: AnySchema; defaultValue?: unknown };
    if (def.type === 'default' || def.type === 'prefault') defaultValue = def.defaultValue;
    else if (def.type !== 'optional') break;
    inner = def.innerType as AnySchema;
    description ??= inner.description;
  }
  return description === undefined ? { inner, defaultValue } : { inner, defaultValue, description };
}

interface Bounds {
  min?: number;
  max?: number;
}

// Reads the size/length/value checks zod keeps on a schema into inclusive bounds.
function boundsOf(s: AnySchema, integer: boolean): Bounds {
  const out: Bounds = {};
  type Check = { _zod: { def: Record<string, unknown> } };
  const checks = (s.def as unknown as { checks?: Check[] }).checks ?? [];
  for (const c of checks) {
    const d = c._zod.def;
    const step = integer && d.inclusive === false ? 1 : 0;
    if (d.check === 'greater_than') out.min = (d.value as number) + step;
    else if (d.check === 'less_than') out.max = (d.value as number) - step;
    else if (d.check === 'min_length' || d.check === 'min_size') out.min = d.minimum as number;
    else if (d.check === 'max_length' || d.check === 'max_size') out.max = d.maximum as number;
  }
  if (out.max !== undefined && out.max >= Number.MAX_SAFE_INTEGER) delete out.max;
  return out;
}

function leafInfo(path: string[], s: AnySchema): ConfigKeyInfo {
  const { inner, defaultValue, description } = unwrapSchema(s);
  const key = path.join('.');
  const flag = Object.keys(configFlags).find((f) => configFlags[f] === key);
  const base = {
    path,
    key,
    default: defaultValue,
    description: description ?? '',
    env: `RAMPART_${path.map((p) => p.toUpperCase()).join('__')}`,
    isPath: configPathKeys.has(key),
    ...(flag === undefined ? {} : { flag }),
  };
  const def = inner.def as { type: string; format?: string; element?: AnySchema; entries?: object };
  switch (def.type) {
    case 'number': {
      const integer = (inner as z.ZodNumber).isInt;
      return { ...base, kind: integer ? 'integer' : 'number', ...boundsOf(inner, integer) };
    }
    case 'boolean':
      return { ...base, kind: 'boolean' };
    case 'record':
      return { ...base, kind: 'table' };
    case 'enum':
      return { ...base, kind: 'enum', options: (inner as z.ZodEnum).options.map(String) };
    case 'array': {
      const element = unwrapSchema(def.element as AnySchema).inner;
      const options =
        element.def.type === 'enum' ? (element as z.ZodEnum).options.map(String) : undefined;
      return {
        ...base,
        kind: 'list',
        ...boundsOf(inner, true),
        ...(options === undefined ? {} : { options }),
      };
    }
    default:
      return { ...base, kind: 'string', ...boundsOf(inner, true) };
  }
}

/** Every settable key, in schema order, with its type, bounds, default and names. */
export function listConfigKeys(): ConfigKeyInfo[] {
  const out: ConfigKeyInfo[] = [];
  const walk = (shape: Record<string, AnySchema>, prefix: string[]): void => {
    for (const [name, s] of Object.entries(shape)) {
      const { inner } = unwrapSchema(s);
      if (inner.def.type === 'object') {
        walk((inner as z.ZodObject).shape as Record<string, AnySchema>, [...prefix, name]);
      } else out.push(leafInfo([...prefix, name], s));
    }
  };
  walk(configSchema.shape as Record<string, AnySchema>, []);
  return out;
}
