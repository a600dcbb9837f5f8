// One outbreak run: a fresh Rampart, N accounts with small-world rosters, N real sessions, and
// a worm that spreads by clicks. Returns infected users over time.

import { join } from 'node:path';
import { notifyServerMany } from '../../src/admin/control-socket.ts';
import { createAdminOperations } from '../../src/admin/operations.ts';
import { configSchema } from '../../src/config/schema.ts';
import { openStorage } from '../../src/storage/open.ts';
import { openSqliteDriver } from '../../src/storage/sqlite/driver.ts';
import { RawClient, type XmlElement, x } from '../../test/helpers/raw-client.ts';
import { type RampartProcess, startRampart } from '../../test/helpers/server.ts';
import { degreeRange, seededRandom, wattsStrogatz } from './graph.ts';
import { type LureKind, lure } from './lures.ts';

export interface SimOptions {
  users: number;
  /** Mean contacts per user (Watts-Strogatz k). */
  k: number;
  beta: number;
  clickProbability: number;
  /** Delay between a click and the infected client sending the lure on, in ms. */
  delayMs: [number, number];
  seed: number;
  lureKind: LureKind;
  /** TOML appended to the server's config (the engine switch, limits). */
  config: string;
  maxSeconds: number;
  /** The run ends after this long with nothing scheduled and nothing arriving. */
  quietSeconds: number;
  log: (line: string) => void;
}

export interface SimResult {
  users: number;
  degree: { min: number; max: number; mean: number };
  /** [seconds since patient zero, infected users] */
  timeline: [number, number][];
  infected: number;
  lureSent: number;
  lureDelivered: number;
  lureLabelled: number;
  errorsToSenders: number;
  serverNotices: number;
  sessionsClosedByServer: number;
  setupSeconds: number;
  seconds: number;
  /** Security events the run caused, "threat rule verdict" → count. */
  events: Record<string, number>;
}

const PASSWORD = 'outbreak simulation 1';
const DOMAIN = 'localhost';
const jidOf = (i: number) => `u${i}@${DOMAIN}`;

/** Runs `fn` over `items` with at most `limit` in flight. */
async function bounded<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>) {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function provision(server: RampartProcess, adj: Set<number>[]): Promise<void> {
  const config = configSchema.parse({ data_dir: server.dataDir, auth: { scram_iterations: 4096 } });
  const storage = openStorage({ dataDir: server.dataDir });
  try {
    const ops = createAdminOperations({
      storage,
      config,
      notify: (events) => notifyServerMany(server.dataDir, events, 120_000),
    });
    await ops.importUsers(adj.map((_, i) => ({ jid: jidOf(i), password: PASSWORD })));
    const pairs = adj.flatMap((set, i) =>
      [...set].filter((j) => j > i).map((j) => ({ jid: jidOf(i), contact: jidOf(j) })),
    );
    await ops.importRoster(pairs);
  } finally {
    await storage.close();
  }
}

export async function simulate(opts: SimOptions): Promise<SimResult> {
  const setupStart = Date.now();
  const adj = wattsStrogatz(opts.users, opts.k, opts.beta, seededRandom(opts.seed));
  const degree = degreeRange(adj);
  const server = await startRampart({
    config: opts.config,
    authTable: '[auth]\nscram_iterations = 4096\n',
    startTimeoutMs: 60_000,
  });
  const clients: RawClient[] = [];
  try {
    await provision(server, adj);
    opts.log(`  ${opts.users} accounts, contacts per user ${degree.min}-${degree.max}`);
    const logins = await bounded(
      adj.map((_, i) => i),
      40,
      async (i) => {
        const c = await RawClient.login({
          port: server.ports.c2s,
          username: `u${i}`,
          password: PASSWORD,
          resource: 'sim',
          timeoutMs: 60_000,
        });
        c.send('<presence/>');
        return c;
      },
    );
    clients.push(...logins);
    opts.log(`  ${clients.length} sessions online (STARTTLS, SCRAM)`);
    // Let the presence broadcasts of the logins settle.
    await new Promise((r) => setTimeout(r, 1500));
    const setupSeconds = (Date.now() - setupStart) / 1000;
    const spreadResult = await spread(opts, adj, clients);
    return {
      ...spreadResult,
      users: opts.users,
      degree,
      setupSeconds,
      events: eventCounts(server),
    };
  } finally {
    for (const c of clients) c.destroy();
    await server.stop();
  }
}

type SpreadResult = Omit<SimResult, 'users' | 'degree' | 'setupSeconds' | 'events'>;

function eventCounts(server: RampartProcess): Record<string, number> {
  const db = openSqliteDriver(join(server.dataDir, 'rampart.db'), { readonly: true });
  try {
    const rows = db
      .prepare<[], { key: string; n: number }>(
        `SELECT threat || ' ' || rule || ' ' || verdict AS key, count(*) AS n
         FROM security_events GROUP BY key ORDER BY n DESC`,
      )
      .all();
    return Object.fromEntries(rows.map((r) => [r.key, r.n]));
  } finally {
    db.close();
  }
}

function spread(opts: SimOptions, adj: Set<number>[], clients: RawClient[]): Promise<SpreadResult> {
  const random = seededRandom(opts.seed ^ 0x5eed);
  const infectedAt = new Map<number, number>();
  const counts = {
    lureSent: 0,
    lureDelivered: 0,
    lureLabelled: 0,
    errorsToSenders: 0,
    serverNotices: 0,
    sessionsClosedByServer: 0,
  };
  const t0 = Date.now();
  let pending = 0;
  let lastActivity = t0;
  let stopped = false;

  const sendOn = (u: number) => {
    const c = clients[u]!;
    if (c.isClosed) return;
    const { text } = lure(opts.lureKind, random);
    for (const v of adj[u]!) {
      c.send(x('message', { to: jidOf(v), type: 'chat', id: `l${u}-${v}` }, x('body', {}, text)));
      counts.lureSent++;
    }
    lastActivity = Date.now();
  };
  const infect = (u: number) => {
    if (infectedAt.has(u)) return;
    infectedAt.set(u, Date.now() - t0);
    const [lo, hi] = opts.delayMs;
    const delay = u === 0 ? 0 : lo + random() * (hi - lo);
    pending++;
    setTimeout(() => {
      pending--;
      if (!stopped) sendOn(u);
    }, delay);
  };
  const onMessage = (v: number, el: XmlElement) => {
    lastActivity = Date.now();
    if (el.attrs.type === 'error') {
      counts.errorsToSenders++;
      return;
    }
    if (el.attrs.from === DOMAIN) {
      counts.serverNotices++;
      return;
    }
    const body = el.getChildText('body') ?? '';
    // A lure the recipient can click: the malicious link arrived as a message.
    if (!/dr0pbox\.com|share-moments\.net/.test(body)) return;
    counts.lureDelivered++;
    if (el.elements().some((c) => c.xmlns === 'urn:rampart:verdict:0')) counts.lureLabelled++;
    if (!infectedAt.has(v) && random() < opts.clickProbability) infect(v);
  };
  for (const [v, c] of clients.entries()) {
    void (async () => {
      for (;;) {
        let el: XmlElement;
        try {
          el = await c.next((e) => e.name === 'message', 'a message', 2 ** 31 - 1);
        } catch {
          if (!stopped) counts.sessionsClosedByServer++;
          return;
        }
        onMessage(v, el);
      }
    })();
  }

  return new Promise((resolve) => {
    infect(0);
    const timeline: [number, number][] = [[0, infectedAt.size]];
    const tick = setInterval(() => {
      const now = Date.now();
      timeline.push([(now - t0) / 1000, infectedAt.size]);
      const quiet = pending === 0 && now - lastActivity > opts.quietSeconds * 1000;
      if (quiet || now - t0 > opts.maxSeconds * 1000) {
        clearInterval(tick);
        stopped = true;
        resolve({ ...counts, timeline, infected: infectedAt.size, seconds: (now - t0) / 1000 });
      }
    }, 250);
  });
}
