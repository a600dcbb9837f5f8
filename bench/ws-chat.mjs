#!/usr/bin/env node
// Steady chat over XMPP-over-WebSocket (RFC 7395) and, in the same run and with the same client
// code, over TCP (direct TLS, XEP-0368), so the two transports can be compared. For each
// transport a fresh Rampart is started through its command line with bench/config.toml, 2N
// accounts are imported, N pairs log in (SCRAM-SHA-1, bind, presence) and every user sends chat
// messages to its partner's full JID at an aggregate fixed rate; the one-way latency comes from
// a timestamp in each body (performance.now() of this process).
//
//   node bench/ws-chat.mjs [--pairs 100] [--rate 1000] [--duration 20] [--warmup 5]
//                          [--transports "ws tcp"] [--reps 1] [--out FILE]
//
// Prints one line per measurement and appends JSON lines to --out (default
// /tmp/bench-results/ws-chat-<time>.jsonl). The server is pinned to CPU $SERVER_CPU (default 1)
// and this process to CPU $CLIENT_CPU (default 0) when taskset is available.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '..');
const DOMAIN = 'bench.local';
const PASSWORD = 'benchpass';
const FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

const { values: opt } = parseArgs({
  options: {
    pairs: { type: 'string', default: '100' },
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    transports: { type: 'string', default: 'ws tcp' },
    reps: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
const pairs = Number(opt.pairs);
const rate = Number(opt.rate);
const duration = Number(opt.duration);
const warmup = Number(opt.warmup);
const out =
  opt.out ??
  join('/tmp/bench-results', `ws-chat-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
mkdirSync(dirname(out), { recursive: true });

const hasTaskset = spawnSync('taskset', ['-V']).status === 0;
if (hasTaskset) spawnSync('taskset', ['-pc', process.env.CLIENT_CPU ?? '0', String(process.pid)]);

// ------------------------------------------------------------------ server

async function freePorts(n) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = createServer();
    await new Promise((r) => s.listen(0, '127.0.0.1', r));
    servers.push(s);
  }
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function healthy(port) {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'rampart-ws-bench-'));
  const [c2s, c2sTls, https] = await freePorts(3);
  const config = join(repo, 'bench', 'config.toml');
  const bin = join(repo, 'bin', 'rampart.mjs');
  const pidFile = join(dataDir, 'pid');
  const args = [
    bin,
    'start',
    '--config',
    config,
    '--domain',
    DOMAIN,
    '--data-dir',
    dataDir,
    '--bind',
    '127.0.0.1',
    '--c2s-port',
    String(c2s),
    '--c2s-tls-port',
    String(c2sTls),
    '--https-port',
    String(https),
    '--pid-file',
    pidFile,
  ];
  const child = hasTaskset
    ? spawn('taskset', ['-c', process.env.SERVER_CPU ?? '1', process.execPath, ...args], {
        cwd: repo,
        stdio: 'ignore',
      })
    : spawn(process.execPath, args, { cwd: repo, stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  while (!(await healthy(https))) {
    if (Date.now() > deadline) throw new Error('rampart did not become healthy');
    await new Promise((r) => setTimeout(r, 200));
  }
  // The server has recorded its domain in the data directory: the CLI can import now.
  const csv = join(dataDir, 'users.csv');
  const users = [];
  for (let i = 1; i <= pairs * 2; i++) users.push(`wsuser${i}@${DOMAIN},${PASSWORD}`);
  writeFileSync(csv, `${users.join('\n')}\n`);
  const imp = spawnSync(
    process.execPath,
    [bin, 'user', 'import', csv, '--config', config, '--data-dir', dataDir],
    { cwd: repo, encoding: 'utf8' },
  );
  if (imp.status !== 0) throw new Error(`user import failed: ${imp.stderr}`);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  return {
    ports: { c2sTls, https },
    pid,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
}

// ------------------------------------------------------------------ client

/** Splits a stream of server output into top-level elements (the server escapes < and > in text). */
class Splitter {
  buf = '';
  depth = 0;
  start = 0;
  push(s, onElement) {
    this.buf += s;
    let i = this.start;
    for (;;) {
      const lt = this.buf.indexOf('<', i);
      if (lt < 0) break;
      const gt = this.buf.indexOf('>', lt);
      if (gt < 0) break;
      const tag = this.buf.slice(lt, gt + 1);
      if (tag.startsWith('<?') || tag.startsWith('<stream:stream')) {
        this.start = gt + 1;
      } else if (tag.startsWith('</')) {
        if (tag === '</stream:stream>') this.start = gt + 1;
        else if (--this.depth === 0) {
          onElement(this.buf.slice(this.start, gt + 1));
          this.start = gt + 1;
        }
      } else if (tag.endsWith('/>')) {
        if (this.depth === 0) {
          onElement(this.buf.slice(lt, gt + 1));
          this.start = gt + 1;
        }
      } else {
        if (this.depth++ === 0) this.start = lt;
      }
      i = gt + 1;
    }
    if (this.depth === 0) {
      this.buf = this.buf.slice(this.start);
      this.start = 0;
    } else if (this.start > 65536) {
      this.buf = this.buf.slice(this.start);
      this.start = 0;
    }
  }
}

/** One XMPP client over WebSocket or TCP: the same login and chat code, different framing. */
class Client {
  constructor(transport, ports, user) {
    this.transport = transport;
    this.ports = ports;
    this.user = user;
    this.waiters = [];
    this.onMessage = () => {};
  }

  connect() {
    return new Promise((resolve, reject) => {
      if (this.transport === 'ws') {
        const ws = new WebSocket(`wss://127.0.0.1:${this.ports.https}/xmpp-websocket`, 'xmpp', {
          rejectUnauthorized: false,
          perMessageDeflate: false,
        });
        ws.on('open', () => resolve());
        ws.on('error', reject);
        ws.on('message', (data) => this.element(data.toString()));
        this.write = (s) => ws.send(s);
        this.close = () => ws.terminate();
      } else {
        const socket = tlsConnect({
          host: '127.0.0.1',
          port: this.ports.c2sTls,
          servername: DOMAIN,
          rejectUnauthorized: false,
        });
        socket.setNoDelay(true);
        const splitter = new Splitter();
        socket.setEncoding('utf8');
        socket.on('secureConnect', () => resolve());
        socket.on('error', reject);
        socket.on('data', (s) => splitter.push(s, (el) => this.element(el)));
        this.write = (s) => socket.write(s);
        this.close = () => socket.destroy();
      }
    });
  }

  element(el) {
    if (el.startsWith('<message')) return this.onMessage(el);
    if (el.startsWith('<iq') && el.includes('rampart-ping-')) {
      const id = /id="([^"]+)"/.exec(el)?.[1];
      return this.write(`<iq xmlns='jabber:client' type='result' id='${id}' to='${DOMAIN}'/>`);
    }
    const i = this.waiters.findIndex((w) => w.re.test(el));
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(el);
  }

  next(re) {
    return new Promise((resolve) => this.waiters.push({ re, resolve }));
  }

  async open() {
    const features = this.next(/^<(stream:)?features/);
    this.write(
      this.transport === 'ws'
        ? `<open xmlns='${FRAMING}' to='${DOMAIN}' version='1.0'/>`
        : `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}' version='1.0'>`,
    );
    return features;
  }

  /** SCRAM-SHA-1 (RFC 5802) without channel binding, then bind and initial presence. */
  async login() {
    await this.connect();
    await this.open();
    const cnonce = randomBytes(18).toString('base64');
    const first = `n=${this.user},r=${cnonce}`;
    const challenge = this.next(/^<(challenge|failure)/);
    this.write(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>${Buffer.from(`n,,${first}`).toString('base64')}</auth>`,
    );
    const serverFirst = Buffer.from(/>([^<]*)</.exec(await challenge)[1], 'base64').toString();
    const f = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
    const salted = pbkdf2Sync(PASSWORD, Buffer.from(f.s, 'base64'), Number(f.i), 20, 'sha1');
    const clientKey = createHmac('sha1', salted).update('Client Key').digest();
    const finalBare = `c=biws,r=${f.r}`;
    const auth = `${first},${serverFirst},${finalBare}`;
    const sig = createHmac('sha1', createHash('sha1').update(clientKey).digest())
      .update(auth)
      .digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i])).toString('base64');
    const success = this.next(/^<(success|failure)/);
    this.write(
      `<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(`${finalBare},p=${proof}`).toString('base64')}</response>`,
    );
    if (!(await success).startsWith('<success')) throw new Error(`${this.user}: SASL failed`);
    await this.open();
    const bound = this.next(/^<iq[^>]*id="bind"/);
    this.write(
      `<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>load</resource></bind></iq>`,
    );
    this.jid = /<jid>([^<]+)<\/jid>/.exec(await bound)[1];
    this.write(`<presence xmlns='jabber:client'/>`);
  }
}

// ------------------------------------------------------------------ measurement

/** Waits (at most 60 s) until the server uses under 5 % of a core over half a second. */
async function settle(pid) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const before = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 500));
    if (cpuSeconds(pid) - before < 0.025 || Date.now() > deadline) return;
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(transport, rep) {
  const server = await startServer();
  try {
    const clients = [];
    for (let i = 1; i <= pairs * 2; i++)
      clients.push(new Client(transport, server.ports, `wsuser${i}`));
    const loginStart = performance.now();
    for (let i = 0; i < clients.length; i += 50) {
      await Promise.all(clients.slice(i, i + 50).map((c) => c.login()));
    }
    const loginS = (performance.now() - loginStart) / 1000;
    await settle(server.pid); // the login's presence broadcasts are done

    let measuring = false;
    let delivered = 0;
    const latencies = [];
    for (const c of clients) {
      c.onMessage = (el) => {
        const t = /<body>t=([\d.]+) /.exec(el);
        if (!t || !measuring) return;
        delivered++;
        latencies.push(performance.now() - Number(t[1]));
      };
    }
    const partner = (i) => clients[i < pairs ? i + pairs : i - pairs];
    const pad = 'x'.repeat(60);
    let sent = 0;
    let next = 0;
    const send = (count) => {
      for (let k = 0; k < count; k++) {
        const i = next++ % clients.length;
        clients[i].write(
          `<message xmlns='jabber:client' to='${partner(i).jid}' type='chat'><body>t=${performance.now().toFixed(3)} ${pad}</body></message>`,
        );
        if (measuring) sent++;
      }
    };
    // A fixed rate: every 10 ms, the messages due since the start.
    const run = async (seconds) => {
      const start = performance.now();
      let due = 0;
      while (performance.now() - start < seconds * 1000) {
        const target = Math.floor(((performance.now() - start) / 1000) * rate);
        send(target - due);
        due = target;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await run(warmup);
    await settle(server.pid);
    measuring = true;
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    await run(duration);
    const sendS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 2000)); // grace for the last messages
    measuring = false;
    const cpu = cpuSeconds(server.pid) - cpu0;
    latencies.sort((a, b) => a - b);
    const result = {
      time: new Date().toISOString(),
      scenario: 'chat',
      transport: transport === 'ws' ? 'websocket' : 'tcp-direct-tls',
      rep,
      pairs,
      users: pairs * 2,
      rate,
      duration_s: duration,
      login_s: Math.round(loginS * 100) / 100,
      sent,
      delivered,
      lost: sent - delivered,
      delivered_per_s: Math.round(delivered / sendS),
      latency_ms: {
        p50: round(percentile(latencies, 50)),
        p99: round(percentile(latencies, 99)),
        max: round(latencies.at(-1) ?? null),
      },
      server_cpu_s_per_1000_msgs: round((cpu * 1000) / Math.max(1, delivered), 4),
    };
    for (const c of clients) c.close();
    return result;
  } finally {
    await server.stop();
  }
}

function round(x, digits = 2) {
  return x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits;
}

const transports = opt.transports.split(/\s+/).filter(Boolean);
for (let rep = 1; rep <= Number(opt.reps); rep++) {
  for (const t of transports) {
    const r = await measure(t, rep);
    appendFileSync(out, `${JSON.stringify(r)}\n`);
    console.log(
      `chat ${r.transport.padEnd(15)} rep ${rep}: ${r.users} users, ${rate} msg/s for ${duration} s: ` +
        `delivered ${r.delivered}/${r.sent} (${r.delivered_per_s}/s), lost ${r.lost}, ` +
        `latency p50 ${r.latency_ms.p50} ms p99 ${r.latency_ms.p99} ms, ` +
        `server CPU ${r.server_cpu_s_per_1000_msgs} s/1000 msgs`,
    );
  }
}
console.log(`results: ${out}`);
