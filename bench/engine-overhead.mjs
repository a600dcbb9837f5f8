#!/usr/bin/env node
// npm run bench:engine [-- options]
// Cost of the threat engine: saturation throughput of a real Rampart with every inspector
// enforcing (policy.default_mode = "enforce") against the same run with the engine off
// (default_mode = "off"), alternating, one fresh server per run; plus the server's own
// per-message inspection timings (median, p99), which it logs at shutdown.
//
// Load: N users, all mutual contacts, each a real session (TCP, STARTTLS, SCRAM); every user
// keeps W messages in flight to random contacts (closed loop: the server's pace sets the
// rate), with bodies made of two ordinary work-chat lines from the shared corpus's ham, so
// every inspector and the classifier do their real work. Reading limits and flood budgets are
// raised out of the way (as in bench/config.toml); every other defence stays on.
//
//   --users N (50)  --window W (5)  --seconds S (15)  --warmup S (3)  --reps R (2)
//   --modes "off on"   --json FILE   --no-pin
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { configSchema } from '../src/config/schema.ts';
import { openSqliteDriver } from '../src/storage/sqlite/driver.ts';
import { RawClient } from '../test/helpers/raw-client.ts';
import { repoRoot, startRampart } from '../test/helpers/server.ts';
import { cpuSeconds, OPEN_LIMITS, pin, sleep } from './support.mjs';

const { values: opt } = parseArgs({
  options: {
    users: { type: 'string', default: '50' },
    window: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    reps: { type: 'string', default: '2' },
    modes: { type: 'string', default: 'off on' },
    json: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
  },
});
const USERS = Number(opt.users);
const WINDOW = Number(opt.window);
const SECONDS = Number(opt.seconds);
const WARMUP = Number(opt.warmup);
const PASSWORD = 'engine overhead bench 1';
const HAS_POLICY = 'policy' in configSchema.shape;
if (!HAS_POLICY)
  console.log('this build has no [policy] section: the engine is not in the message path');

/** The shared corpus: ../shared next to the checkout (or next to its parent's, for worktrees). */
function corpusPath() {
  const candidates = [
    process.env.RAMPART_CORPUS,
    resolve(repoRoot, '..', 'shared', 'corpus', 'messages.dev.jsonl'),
    resolve(repoRoot, '..', '..', 'shared', 'corpus', 'messages.dev.jsonl'),
  ];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error('shared corpus not found; set RAMPART_CORPUS');
  return found;
}
const ham = readFileSync(corpusPath(), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l))
  .filter((m) => m.label === 'ham')
  .map((m) => m.text);

const escapeXml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const pick = () => ham[Math.floor(Math.random() * ham.length)];

function config(mode) {
  return [
    OPEN_LIMITS,
    '[flood]',
    'recipient_messages_per_s = 100000',
    'recipient_burst = 100000',
    'sender_messages_per_s = 100000',
    'sender_burst = 100000',
    // The shutdown line with the inspection timings is logged at the default level (info).
    ...(HAS_POLICY ? ['[policy]', `default_mode = "${mode === 'on' ? 'enforce' : 'off'}"`] : []),
  ].join('\n');
}

const pinTo = (pid, cpu) => {
  if (!opt['no-pin']) pin(pid, cpu);
};

/** The server's shutdown line with its inspection timings, if it logged one. */
function inspectionTimings(output) {
  for (const line of output.split('\n').reverse()) {
    if (!line.includes('"inspectionMs"')) continue;
    try {
      return JSON.parse(line).inspectionMs;
    } catch {}
  }
  return undefined;
}

/** Security events of the run, "threat rule verdict" → count (what held or refused messages). */
function eventCounts(dataDir) {
  const db = openSqliteDriver(resolve(dataDir, 'rampart.db'), { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT threat || ' ' || rule || ' ' || verdict AS key, count(*) AS n
         FROM security_events GROUP BY key ORDER BY n DESC`,
      )
      .all();
    return Object.fromEntries(rows.map((r) => [r.key, r.n]));
  } finally {
    db.close();
  }
}

async function runOnce(mode) {
  const server = await startRampart({ config: config(mode), startTimeoutMs: 60_000 });
  pinTo(server.pid, 1);
  const clients = [];
  try {
    const users = Array.from({ length: USERS }, (_, i) => `o${i}`);
    const imported = await server.cli(
      ['user', 'import', '-'],
      users.map((u) => `${u}@localhost,${PASSWORD}`).join('\n'),
    );
    if (imported.code !== 0) throw new Error(imported.stderr);
    const pairs = [];
    for (let i = 0; i < USERS; i++)
      for (let j = i + 1; j < USERS; j++) pairs.push(`o${i}@localhost,o${j}@localhost`);
    const rostered = await server.cli(['roster', 'import', '-'], pairs.join('\n'));
    if (rostered.code !== 0) throw new Error(rostered.stderr);
    for (const u of users) {
      const c = await RawClient.login({
        port: server.ports.c2s,
        username: u,
        password: PASSWORD,
        resource: 'o',
        timeoutMs: 30_000,
      });
      c.send('<presence/>');
      clients.push(c);
    }
    await sleep(1500);

    // From here on each socket is read by a lean scanner instead of the test client's parser.
    const inflight = clients.map(() => new Map());
    const stats = { delivered: 0, errors: 0, expired: 0, latencies: [] };
    let measuring = false;
    let seq = 0;
    const topUp = new Set();
    const send = (i) => {
      let out = '';
      while (inflight[i].size < WINDOW) {
        let j = Math.floor(Math.random() * (USERS - 1));
        if (j >= i) j++;
        const id = `m${i}-${++seq}`;
        inflight[i].set(id, performance.now());
        out += `<message to='o${j}@localhost' type='chat' id='${id}'><body>${escapeXml(`${pick()} ${pick()}`)}</body></message>`;
      }
      if (out) clients[i].write(out);
    };
    let flushQueued = false;
    const flush = () => {
      flushQueued = false;
      for (const i of topUp) send(i);
      topUp.clear();
    };
    const settle = (id, error) => {
      const dash = id.indexOf('-');
      const i = Number(id.slice(1, dash));
      const sentAt = inflight[i]?.get(id);
      if (sentAt === undefined) return;
      inflight[i].delete(id);
      if (measuring) {
        if (error) stats.errors++;
        else {
          stats.delivered++;
          stats.latencies.push(performance.now() - sentAt);
        }
      }
      topUp.add(i);
      if (!flushQueued) {
        flushQueued = true;
        setImmediate(flush);
      }
    };
    for (const c of clients) {
      const socket = c.tlsSocket;
      socket.removeAllListeners('data');
      socket.setEncoding('utf8');
      let buffer = '';
      socket.on('data', (chunk) => {
        buffer += chunk;
        let end = buffer.indexOf('</message>');
        while (end !== -1) {
          const start = buffer.lastIndexOf('<message ', end);
          const stanza = buffer.slice(start, end);
          const idAt = stanza.indexOf(' id="m');
          if (idAt !== -1) {
            const id = stanza.slice(idAt + 5, stanza.indexOf('"', idAt + 5));
            settle(id, stanza.includes('type="error"'));
          }
          buffer = buffer.slice(end + 10);
          end = buffer.indexOf('</message>');
        }
        if (buffer.length > 1_000_000) buffer = buffer.slice(-100_000);
      });
    }
    // Held messages never come back: after 20 s they are counted and replaced.
    const sweeper = setInterval(() => {
      const old = performance.now() - 20_000;
      for (const [i, m] of inflight.entries()) {
        for (const [id, t] of m) {
          if (t >= old) break;
          m.delete(id);
          if (measuring) stats.expired++;
          topUp.add(i);
        }
      }
      flush();
    }, 500);
    for (let i = 0; i < USERS; i++) send(i);
    await sleep(WARMUP * 1000);
    const cpu0 = cpuSeconds(server.pid);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    measuring = true;
    await sleep(SECONDS * 1000);
    measuring = false;
    const wall = (performance.now() - t0) / 1000;
    const serverCpuS = cpuSeconds(server.pid) - cpu0;
    const serverCpu = serverCpuS / wall;
    const cu = process.cpuUsage(client0);
    const clientCpu = (cu.user + cu.system) / 1e6 / wall;
    clearInterval(sweeper);
    const events = eventCounts(server.dataDir);
    for (const c of clients) c.tlsSocket?.destroy();
    await server.stop();
    const sorted = stats.latencies.sort((a, b) => a - b);
    const q = (p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
    return {
      mode,
      users: USERS,
      window: WINDOW,
      seconds: SECONDS,
      deliveredPerS: Math.round(stats.delivered / wall),
      // What one dedicated core would sustain: robust when other work shares the machine.
      deliveredPerCpuS: Math.round(stats.delivered / serverCpuS),
      errors: stats.errors,
      expired: stats.expired,
      latencyMs: { p50: q(0.5), p99: q(0.99) },
      serverCpu: Math.round(serverCpu * 100),
      clientCpu: Math.round(clientCpu * 100),
      inspectionMs: inspectionTimings(server.output()),
      events,
      loadAverage1m: loadavg()[0],
    };
  } catch (err) {
    for (const c of clients) c.destroy();
    await server.stop().catch(() => {});
    throw err;
  }
}

pinTo(process.pid, 0);
console.log(
  `engine overhead: ${USERS} users, ${WINDOW} in flight each, ${SECONDS} s per run; ${cpus().length} × ${cpus()[0]?.model}; Node ${process.version}; ham corpus ${ham.length} lines (${dirname(corpusPath())})`,
);
console.log(
  'run  engine  delivered/s  per server CPU-s  errors  held/expired  p50 ms  p99 ms  server CPU  client CPU  inspection ms p50/p99 (n)  load',
);
const modes = opt.modes.split(/\s+/).filter(Boolean);
const byMode = new Map();
for (let rep = 1; rep <= Number(opt.reps); rep++) {
  // Alternate the order so that drift on a shared machine falls on both sides.
  for (const mode of rep % 2 === 1 ? modes : [...modes].reverse()) {
    const r = await runOnce(mode);
    const t = r.inspectionMs;
    console.log(
      `${String(rep).padStart(3)}  ${mode.padEnd(6)}  ${String(r.deliveredPerS).padStart(11)}  ${String(r.deliveredPerCpuS).padStart(16)}  ${String(r.errors).padStart(6)}  ${String(r.expired).padStart(12)}  ${r.latencyMs.p50?.toFixed(1).padStart(6)}  ${r.latencyMs.p99?.toFixed(1).padStart(6)}  ${`${r.serverCpu} %`.padStart(10)}  ${`${r.clientCpu} %`.padStart(10)}  ${(t ? `${t.p50}/${t.p99} (${t.count})` : '-').padStart(25)}  ${r.loadAverage1m.toFixed(1)}`,
    );
    if (Object.keys(r.events).length > 0) console.log(`     events: ${JSON.stringify(r.events)}`);
    if (!byMode.has(mode)) byMode.set(mode, []);
    byMode.get(mode).push(r);
    if (opt.json)
      appendFileSync(
        opt.json,
        `${JSON.stringify({ ...r, rep, time: new Date().toISOString() })}\n`,
      );
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
if (byMode.has('on') && byMode.has('off')) {
  for (const key of ['deliveredPerS', 'deliveredPerCpuS']) {
    const on = median(byMode.get('on').map((r) => r[key]));
    const off = median(byMode.get('off').map((r) => r[key]));
    console.log(
      `median ${key}: engine on ${on}, off ${off}: on/off = ${((100 * on) / off).toFixed(1)} % (target ≥ 90 %)`,
    );
  }
}
