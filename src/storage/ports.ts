/**
 * What Rampart keeps, as typed repositories. Protocol code depends only on these
 * interfaces; `storage/sqlite` (default) and later `storage/postgres` implement them.
 * Every method is async so that a networked database fits the same contract.
 * JIDs passed in and out are prepared bare JIDs as strings ("alice@example.com").
 */

export type ScramHash = 'SHA-1' | 'SHA-256';

/** SCRAM's server-side credential (RFC 5802 §3): the password itself is never stored. */
export interface ScramCredential {
  hash: ScramHash;
  /** base64 */
  salt: string;
  iterations: number;
  /** base64 */
  storedKey: string;
  /** base64 */
  serverKey: string;
}

export interface Account {
  jid: string;
  /** ms since epoch */
  createdAt: number;
  credentials: ScramCredential[];
  /** Set when the fan-out detector (or an admin) quarantines the account; logins are refused. */
  quarantinedReason?: string;
}

export interface NewAccount {
  jid: string;
  credentials: ScramCredential[];
}

export class AccountExistsError extends Error {
  override readonly name = 'AccountExistsError';
}

export interface AccountStore {
  /** Throws AccountExistsError when the JID is taken. */
  create(account: NewAccount): Promise<void>;
  /** Inserts many in one transaction; existing JIDs are skipped and returned. */
  createMany(accounts: NewAccount[]): Promise<{ created: number; existing: string[] }>;
  get(jid: string): Promise<Account | undefined>;
  /** Returns false when there is no such account. */
  setCredentials(jid: string, credentials: ScramCredential[]): Promise<boolean>;
  setQuarantine(jid: string, reason: string | undefined): Promise<boolean>;
  /** Removes the account and everything it owns (roster, offline messages, kv, PEP nodes). */
  remove(jid: string): Promise<boolean>;
  list(domain?: string): Promise<string[]>;
}

export type Subscription = 'none' | 'to' | 'from' | 'both';

export interface RosterItem {
  contact: string;
  name?: string;
  subscription: Subscription;
  /** We asked the contact for a subscription and are waiting (RFC 6121 "pending out"). */
  askOut: boolean;
  /** The contact asked to subscribe to us and the user has not answered ("pending in"). */
  askIn: boolean;
  /** The user pre-approved a subscription request from the contact (RFC 6121 §3.4). */
  preApproved: boolean;
  groups: string[];
}

export interface Roster {
  version: number;
  items: RosterItem[];
}

export interface RosterStore {
  get(owner: string): Promise<Roster>;
  getItem(owner: string, contact: string): Promise<RosterItem | undefined>;
  /** Inserts or replaces the item; returns the roster's new version. */
  put(owner: string, item: RosterItem): Promise<number>;
  /** Returns the new version, or undefined when there was no such item. */
  remove(owner: string, contact: string): Promise<number | undefined>;
}

export interface OfflineMessage {
  id: number;
  /** The serialized <message/> stanza as it should be delivered. */
  stanza: string;
  /** ms since epoch */
  storedAt: number;
}

export interface OfflineStore {
  /** Stores one message; resolves once it is durable. */
  push(owner: string, stanza: string): Promise<number>;
  /**
   * Stores one message on its way to a connected session that acks (XEP-0198), resolving once
   * it is durable. Until `land` it is not listed or counted: it is removed when acked.
   */
  pushInFlight(owner: string, stanza: string): Promise<number>;
  /** In-flight messages become offline messages (their session ended without acking them). */
  land(owner: string, ids: number[]): Promise<void>;
  /** At startup: every message left in flight by a crashed process becomes offline; how many. */
  landAllInFlight(): Promise<number>;
  /** Oldest first; offline messages only. */
  list(owner: string, limit?: number): Promise<OfflineMessage[]>;
  /** Removes offline or in-flight messages. */
  remove(owner: string, ids: number[]): Promise<void>;
  /** Offline messages only. */
  count(owner: string): Promise<number>;
}

export type Verdict =
  | 'allow'
  | 'label'
  | 'hold'
  | 'refuse'
  | 'quarantine'
  | 'delay'
  | 'close'
  /** Delivered copies were taken back (the zero-hour purge). */
  | 'retract';

export interface SecurityEvent {
  /** ms since epoch; set by the store when absent */
  time?: number;
  /** T1..T10 from ../shared/THREATS.md */
  threat: string;
  rule: string;
  /** Who acted: a JID, or an address for unauthenticated connections. */
  actor: string;
  /** Who or what was targeted (a JID, an account, a resource). */
  target?: string;
  /** The remote address of the connection involved. */
  address?: string;
  verdict: Verdict;
  /** Structured details; no message text unless policy allows. */
  evidence?: Record<string, unknown>;
}

export interface StoredSecurityEvent extends SecurityEvent {
  id: number;
  time: number;
}

export interface SecurityEventStore {
  record(event: SecurityEvent): Promise<void>;
  /** Newest last; `afterId` pages forward (for `events tail`). */
  list(query?: {
    afterId?: number;
    /** Only events at or after this time (ms since epoch). */
    since?: number;
    limit?: number;
    rule?: string;
    actor?: string;
  }): Promise<StoredSecurityEvent[]>;
}

/** Why the server keeps a message: a stranger's contact request, or an admin's review. */
export type HeldKind = 'request' | 'review';

/** A message the threat engine kept instead of delivering (T1 contact requests, holds). */
export interface HeldMessage {
  id: number;
  /** The recipient's bare JID. */
  owner: string;
  /** The sender's bare JID. */
  sender: string;
  kind: HeldKind;
  /** The serialized <message/> as it would have been delivered. */
  stanza: string;
  threat?: string;
  rule: string;
  /** Plain words: why it was held. */
  reason: string;
  /** ms since epoch */
  heldAt: number;
}

export type NewHeldMessage = Omit<HeldMessage, 'id' | 'heldAt'> & { heldAt?: number };

export interface HeldMessageStore {
  add(message: NewHeldMessage): Promise<number>;
  /** Oldest first; every filter is optional. */
  list(query?: { owner?: string; sender?: string; kind?: HeldKind }): Promise<HeldMessage[]>;
  get(id: number): Promise<HeldMessage | undefined>;
  /** Removes the messages; returns how many existed. */
  remove(ids: number[]): Promise<number>;
  /** Removes messages held before `time` (retention); returns how many. */
  removeOlderThan(time: number): Promise<number>;
}

/** Small per-account documents (last activity, private XML, vCard, settings). */
export interface KeyValueStore {
  get(owner: string, key: string): Promise<string | undefined>;
  set(owner: string, key: string, value: string): Promise<void>;
  delete(owner: string, key: string): Promise<void>;
}

/** Who may read a PEP node's items and receive its notifications (XEP-0060 §4.5). */
export type PubsubAccessModel = 'presence' | 'open' | 'whitelist';

/** When a subscriber gets the last item on its own (XEP-0060 pubsub#send_last_published_item). */
export type PubsubSendLast = 'never' | 'on_sub' | 'on_sub_and_presence';

/** The configuration of one PEP node: the XEP-0060 options Rampart supports. */
export interface PubsubNodeConfig {
  accessModel: PubsubAccessModel;
  /** Most items kept; publishing beyond it drops the oldest. */
  maxItems: number;
  persistItems: boolean;
  sendLastPublishedItem: PubsubSendLast;
  notifyRetract: boolean;
  title?: string;
}

export interface PubsubItem {
  id: string;
  /** The serialized payload element. */
  payload: string;
  /** Full JID of the publishing resource. */
  publisher: string;
  /** ms since epoch of the latest publish with this id */
  publishedAt: number;
}

/**
 * Personal eventing nodes (XEP-0163) of each account: node configurations and their items.
 * Items are ordered by publication; publishing an existing id replaces it as the newest.
 */
export interface PubsubStore {
  nodes(owner: string): Promise<{ node: string; config: PubsubNodeConfig }[]>;
  getNode(owner: string, node: string): Promise<PubsubNodeConfig | undefined>;
  /** Creates the node or replaces its configuration; trims items beyond the new maxItems. */
  putNode(owner: string, node: string, config: PubsubNodeConfig): Promise<void>;
  /** Removes the node and its items; false when there was no such node. */
  deleteNode(owner: string, node: string): Promise<boolean>;
  /** Stores the item as the node's newest and drops the oldest beyond the node's maxItems. */
  publish(owner: string, node: string, item: PubsubItem): Promise<void>;
  /** Newest first; `ids` selects items, `max` caps the count. */
  items(
    owner: string,
    node: string,
    query?: { ids?: readonly string[]; max?: number },
  ): Promise<PubsubItem[]>;
  /** False when there was no such item. */
  retract(owner: string, node: string, id: string): Promise<boolean>;
}

/**
 * Where an uploaded file is in its life: a slot handed out, bytes arriving, being scanned, then
 * served (clean) or held (quarantined). Only `clean` files are ever served.
 */
export type FileStatus = 'slot' | 'uploading' | 'scanning' | 'clean' | 'quarantined';

/** A file uploaded over XEP-0363 (the bytes live encrypted in the upload directory). */
export interface StoredFile {
  /** Random, unguessable; also the file's name on disk and part of its URLs. */
  id: string;
  /** Bare JID of the uploader. */
  owner: string;
  /** The file name the client asked for. */
  name: string;
  /** Declared size in bytes (the upload must match it exactly). */
  size: number;
  /** The content type the client declared. */
  contentType: string;
  status: FileStatus;
  /** ms since epoch */
  createdAt: number;
  /** ms since epoch: a slot not used by then is void; a stored file is deleted then. */
  expiresAt: number;
  /** Hex SHA-256 of the plaintext, once uploaded. */
  sha256?: string;
  /** Real type from magic bytes (file-type extension, or a Rampart label), once scanned. */
  detectedType?: string;
  /** The per-file key, wrapped with the server's master key (base64). */
  wrappedKey?: string;
  /** Why a quarantined file is held: the rule and the plain-words reason. */
  verdictRule?: string;
  verdictReason?: string;
}

/** Fields to change on a stored file; `undefined` clears an optional one. */
export type FilePatch = {
  [K in keyof Omit<StoredFile, 'id' | 'owner'>]?: StoredFile[K] | undefined;
};

export interface FileStore {
  /** Records a new slot (status 'slot'). */
  create(file: StoredFile): Promise<void>;
  get(id: string): Promise<StoredFile | undefined>;
  /** Moves `id` from `from` to `to` only if it is still in `from`: true when this call did it. */
  transition(id: string, from: FileStatus, to: FileStatus): Promise<boolean>;
  update(id: string, patch: FilePatch): Promise<void>;
  /** Newest first. */
  list(query?: { owner?: string; status?: FileStatus; sha256?: string }): Promise<StoredFile[]>;
  /** Bytes counted against the owner's quota: every slot and file not yet expired. */
  usage(owner: string, now: number): Promise<number>;
  /** Records whose `expiresAt` is at or before `now`. */
  expired(now: number, limit?: number): Promise<StoredFile[]>;
  remove(id: string): Promise<boolean>;
}

/** What a server-wide artefact block names (T2): a link, a domain and its subdomains, a file. */
export type ThreatBlockKind = 'url' | 'domain' | 'sha256' | 'file';

export interface ThreatBlock {
  kind: ThreatBlockKind;
  /** Normalised: a URL as the URL inspector spells it, an ASCII domain, lower-case hex. */
  value: string;
  /** Plain words shown to senders and admins. */
  reason: string;
  /** 'admin' (`rampart threat block`) or 'outbreak' (the detector). */
  source: 'admin' | 'outbreak';
  /** ms since epoch */
  createdAt: number;
  /** Set once the copies delivered before the block were retracted (the zero-hour purge). */
  purgedAt?: number;
}

export interface ThreatBlockStore {
  /** Inserts or replaces; returns false when the same block already existed (kept as it was). */
  add(block: ThreatBlock): Promise<boolean>;
  remove(kind: ThreatBlockKind, value: string): Promise<boolean>;
  /** Oldest first. */
  list(): Promise<ThreatBlock[]>;
  markPurged(kind: ThreatBlockKind, value: string, time: number): Promise<void>;
}

/** One message delivered (or stored offline) to a local account, kept for the zero-hour purge. */
export interface DeliveryRecord {
  /** The server's XEP-0359 stanza-id on the delivered copy. */
  stanzaId: string;
  /** What the sender's client knows it by: its origin-id, else its id attribute. */
  messageId?: string;
  sender: string;
  recipient: string;
  /** Artefact keys (`url:...`, `domain:...`, `sha256:...`, `file:...`); read back sorted. */
  artefacts: string[];
  /** ms since epoch */
  time: number;
}

export interface StoredDeliveryRecord extends DeliveryRecord {
  id: number;
}

export interface DeliveryLogStore {
  record(entry: DeliveryRecord): Promise<void>;
  /** Deliveries since `since` carrying any of the artefact keys, oldest first. */
  find(query: {
    artefacts: readonly string[];
    since: number;
    sender?: string;
  }): Promise<StoredDeliveryRecord[]>;
  /** Forgets the given deliveries (they were purged). */
  remove(ids: readonly number[]): Promise<void>;
  /** Removes deliveries older than `before`; returns how many. */
  prune(before: number): Promise<number>;
}

export interface Storage {
  readonly kind: string;
  accounts: AccountStore;
  roster: RosterStore;
  offline: OfflineStore;
  events: SecurityEventStore;
  kv: KeyValueStore;
  pubsub: PubsubStore;
  files: FileStore;
  threatBlocks: ThreatBlockStore;
  deliveries: DeliveryLogStore;
  held: HeldMessageStore;
  /** Flushes and closes; called on graceful shutdown. */
  close(): Promise<void>;
}
