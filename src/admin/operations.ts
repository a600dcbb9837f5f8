/**
 * Account and roster administration, shared by every admin surface (CLI today, REST API and
 * admin console later). Each operation validates its input, writes to storage, and once the
 * write has committed tells the running server (if any) so the change takes effect at once.
 */
import { availableParallelism } from 'node:os';
import type { Config } from '../config/schema.ts';
import { prepDomain } from '../stanza/jid.ts';
import {
  AccountExistsError,
  type RosterItem,
  type ScramCredential,
  type Storage,
} from '../storage/ports.ts';
import { mapBounded } from './bounded-map.ts';
import type { ControlEvent } from './control-socket.ts';
import { badLine } from './csv.ts';
import { AdminError } from './errors.ts';
import { createThreatOperations, type ThreatOperations } from './threat-operations.ts';
import { checkPasswordPolicy, prepareAccountJid } from './validate.ts';

export type DeriveCredentials = (
  password: string,
  iterations: number,
) => Promise<ScramCredential[]>;

export interface AdminDeps {
  storage: Storage;
  config: Config;
  /** Tells the running server about committed changes (see notifyServerMany). */
  notify: (events: readonly ControlEvent[]) => Promise<void>;
  /** Defaults to auth/credentials' deriveCredentials; tests may pass a cheaper one. */
  deriveCredentials?: DeriveCredentials;
}

/** A user to import; `line` (1-based, from a CSV file) is used in error messages. */
export interface UserEntry {
  jid: string;
  password: string;
  line?: number;
}

/** A contact pair to import. */
export interface ContactEntry {
  jid: string;
  contact: string;
  line?: number;
}

export interface ImportOptions {
  /** Called as credentials are derived: (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Derivations in flight at once; defaults to twice the CPU count. */
  concurrency?: number;
}

export interface ImportUsersResult {
  created: number;
  /** Accounts that already existed and were left unchanged. */
  existing: string[];
}

export interface AdminOperations extends ThreatOperations {
  addUser(jid: string, password: string): Promise<{ jid: string }>;
  setPassword(jid: string, password: string): Promise<{ jid: string }>;
  removeUser(jid: string): Promise<{ jid: string }>;
  /** Lifts a quarantine (T2): the account may sign in again. */
  releaseUser(jid: string): Promise<{ jid: string; reason: string }>;
  listUsers(domain?: string): Promise<string[]>;
  importUsers(entries: readonly UserEntry[], options?: ImportOptions): Promise<ImportUsersResult>;
  addContact(jid: string, contact: string): Promise<{ jid: string; contact: string }>;
  removeContact(jid: string, contact: string): Promise<{ jid: string; contact: string }>;
  listRoster(jid: string): Promise<RosterItem[]>;
  importRoster(entries: readonly ContactEntry[]): Promise<{ pairs: number }>;
}

let defaultDerive: DeriveCredentials | undefined;

// Loaded on first use so read-only commands (`user list`) skip the crypto module.
async function deriveWithDefault(password: string, iterations: number): Promise<ScramCredential[]> {
  if (defaultDerive === undefined) {
    defaultDerive = (await import('../auth/credentials.ts')).deriveCredentials;
  }
  return defaultDerive(password, iterations);
}

export function createAdminOperations(deps: AdminDeps): AdminOperations {
  const { storage, config } = deps;
  const domain = config.domain;
  const derive = deps.deriveCredentials ?? deriveWithDefault;
  const iterations = config.auth.scram_iterations;

  const accountJid = (input: string): string => prepareAccountJid(input, domain);

  const mustExist = async (jid: string): Promise<void> => {
    if ((await storage.accounts.get(jid)) === undefined) {
      throw new AdminError('not-found', `no such user: ${jid}`);
    }
  };

  // The database write has committed; failing to reach the server must not read as "nothing happened".
  const tell = async (events: readonly ControlEvent[]): Promise<void> => {
    if (events.length === 0) return;
    try {
      await deps.notify(events);
    } catch (err) {
      throw new AdminError(
        'notify-failed',
        `saved, but the running server was not told: ${(err as Error).message}`,
      );
    }
  };

  // Admin-made contacts are mutual: subscription both, nothing pending. An existing item
  // keeps its name and groups, which belong to the user.
  const befriend = async (owner: string, contact: string): Promise<void> => {
    const existing = await storage.roster.getItem(owner, contact);
    const item: RosterItem = {
      contact,
      subscription: 'both',
      askIn: false,
      askOut: false,
      preApproved: false,
      groups: existing?.groups ?? [],
    };
    if (existing?.name !== undefined) item.name = existing.name;
    await storage.roster.put(owner, item);
  };

  const pairOf = (jidInput: string, contactInput: string): [string, string] => {
    const jid = accountJid(jidInput);
    const contact = accountJid(contactInput);
    if (jid === contact) throw new AdminError('invalid', `cannot add ${jid} to their own roster`);
    return [jid, contact];
  };

  return {
    ...createThreatOperations(storage, tell),

    async addUser(jidInput, password) {
      const jid = accountJid(jidInput);
      checkPasswordPolicy(password, jid, config.password_policy);
      if ((await storage.accounts.get(jid)) !== undefined) {
        throw new AdminError('exists', `user exists: ${jid}`);
      }
      const credentials = await derive(password, iterations);
      try {
        await storage.accounts.create({ jid, credentials });
      } catch (err) {
        if (err instanceof AccountExistsError) {
          throw new AdminError('exists', `user exists: ${jid}`);
        }
        throw err;
      }
      return { jid };
    },

    async setPassword(jidInput, password) {
      const jid = accountJid(jidInput);
      checkPasswordPolicy(password, jid, config.password_policy);
      await mustExist(jid);
      const credentials = await derive(password, iterations);
      if (!(await storage.accounts.setCredentials(jid, credentials))) {
        throw new AdminError('not-found', `no such user: ${jid}`);
      }
      await tell([{ type: 'credentialsChanged', jid }]);
      return { jid };
    },

    async removeUser(jidInput) {
      const jid = accountJid(jidInput);
      await mustExist(jid);
      const roster = await storage.roster.get(jid);
      if (!(await storage.accounts.remove(jid))) {
        throw new AdminError('not-found', `no such user: ${jid}`);
      }
      // Take the account off its contacts' rosters too, so nobody keeps a dead contact.
      const events: ControlEvent[] = [];
      for (const item of roster.items) {
        if ((await storage.roster.remove(item.contact, jid)) !== undefined) {
          events.push({ type: 'rosterChanged', owner: item.contact, contact: jid });
        }
      }
      events.push({ type: 'accountRemoved', jid });
      await tell(events);
      return { jid };
    },

    async releaseUser(jidInput) {
      const jid = accountJid(jidInput);
      const account = await storage.accounts.get(jid);
      if (account === undefined) throw new AdminError('not-found', `no such user: ${jid}`);
      if (account.quarantinedReason === undefined) {
        throw new AdminError('invalid', `${jid} is not quarantined`);
      }
      await storage.accounts.setQuarantine(jid, undefined);
      await tell([{ type: 'accountReleased', jid }]);
      return { jid, reason: account.quarantinedReason };
    },

    async listUsers(domainFilter) {
      if (domainFilter === undefined) return storage.accounts.list();
      let filter: string;
      try {
        filter = prepDomain(domainFilter);
      } catch (err) {
        throw new AdminError(
          'invalid',
          `invalid domain "${domainFilter}": ${(err as Error).message}`,
        );
      }
      return storage.accounts.list(filter);
    },

    async importUsers(entries, options = {}) {
      // Every line is checked before anything is written: a bad file imports nothing.
      const seen = new Map<string, number>();
      const prepared = entries.map((entry, index) => {
        try {
          const jid = accountJid(entry.jid);
          checkPasswordPolicy(entry.password, jid, config.password_policy);
          const first = seen.get(jid);
          if (first !== undefined) {
            throw new AdminError('invalid', `${jid} is already listed on line ${first}`);
          }
          seen.set(jid, entry.line ?? index + 1);
          return { jid, password: entry.password, line: entry.line, index };
        } catch (err) {
          if (!(err instanceof AdminError)) throw err;
          throw badLine(entry.line, err.message, index);
        }
      });

      const existing: string[] = [];
      const fresh: typeof prepared = [];
      for (const entry of prepared) {
        if ((await storage.accounts.get(entry.jid)) === undefined) fresh.push(entry);
        else existing.push(entry.jid);
      }

      let done = 0;
      const total = fresh.length;
      options.onProgress?.(0, total);
      const concurrency = options.concurrency ?? Math.max(2, availableParallelism() * 2);
      const accounts = await mapBounded(fresh, concurrency, async (entry) => {
        let credentials: ScramCredential[];
        try {
          credentials = await derive(entry.password, iterations);
        } catch (err) {
          // e.g. a character SASLprep prohibits
          throw badLine(entry.line, `password refused: ${(err as Error).message}`, entry.index);
        }
        done += 1;
        options.onProgress?.(done, total);
        return { jid: entry.jid, credentials };
      });
      const result = await storage.accounts.createMany(accounts);
      return { created: result.created, existing: [...existing, ...result.existing] };
    },

    async addContact(jidInput, contactInput) {
      const [jid, contact] = pairOf(jidInput, contactInput);
      await mustExist(jid);
      await mustExist(contact);
      await befriend(jid, contact);
      await befriend(contact, jid);
      await tell([
        { type: 'rosterChanged', owner: jid, contact },
        { type: 'rosterChanged', owner: contact, contact: jid },
      ]);
      return { jid, contact };
    },

    async removeContact(jidInput, contactInput) {
      const [jid, contact] = pairOf(jidInput, contactInput);
      await mustExist(jid);
      const events: ControlEvent[] = [];
      if ((await storage.roster.remove(jid, contact)) !== undefined) {
        events.push({ type: 'rosterChanged', owner: jid, contact });
      }
      if ((await storage.roster.remove(contact, jid)) !== undefined) {
        events.push({ type: 'rosterChanged', owner: contact, contact: jid });
      }
      if (events.length === 0) {
        throw new AdminError('not-found', `no such contact: ${contact} is not on ${jid}'s roster`);
      }
      await tell(events);
      return { jid, contact };
    },

    async listRoster(jidInput) {
      const jid = accountJid(jidInput);
      await mustExist(jid);
      return (await storage.roster.get(jid)).items;
    },

    async importRoster(entries) {
      const pairs: Array<[string, string]> = [];
      const known = new Set<string>();
      for (const [index, entry] of entries.entries()) {
        try {
          const pair = pairOf(entry.jid, entry.contact);
          for (const jid of pair) {
            if (!known.has(jid)) {
              await mustExist(jid);
              known.add(jid);
            }
          }
          pairs.push(pair);
        } catch (err) {
          if (!(err instanceof AdminError)) throw err;
          throw badLine(entry.line, err.message, index);
        }
      }
      const events: ControlEvent[] = [];
      for (const [jid, contact] of pairs) {
        await befriend(jid, contact);
        await befriend(contact, jid);
        events.push(
          { type: 'rosterChanged', owner: jid, contact },
          { type: 'rosterChanged', owner: contact, contact: jid },
        );
      }
      await tell(events);
      return { pairs: pairs.length };
    },
  };
}
