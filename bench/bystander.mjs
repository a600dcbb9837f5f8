#!/usr/bin/env node
// npm run bench:bystander [-- options]
// Bystander latency under a flood (T5 fairness): one session floods 1,000 messages a second
// (to one recipient, or spread over many) while another pair exchanges messages; reports the
// pair's one-way delivery latency (p50/p99/max) with and without the flood. Every session is a
// real XMPP session (TCP, STARTTLS, SCRAM) against a real Rampart started from this checkout on
// free ports (test/helpers/server.ts), one fresh server per variant.
//
//   --rate N          flood messages per second (default 1000)
//   --seconds S       length of each measurement (default 20)
//   --pair-rate N     bystander messages per second in each direction (default 10: a lively
//                     chat, below the flood shield's per-sender budget)
//   --sinks N         recipients of the "many" flood (default 100)
//   --variants LIST   comma-separated, default all: baseline,one,many,one-open,many-open,one-noshield
//   --json FILE       append one JSON line per variant
//   --no-pin          do not pin the server to CPU 1 and this process to CPU 0 (taskset)
//
// Variants: `baseline` no flood; `one`/`many` flood with the default limits (the reading limits
// pace the flooder, the flood shield holds what passes); `*-open` the same with the per-session
// and per-account reading limits raised so the full 1,000/s reaches the router and only the
// flood shield stands in the way; `one-noshield` raised limits and `flood.mode = "off"`.
import { appendFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { RawClient, x } from '../test/helpers/raw-client.ts';
import { startRampart } from '../test/helpers/server.ts';
import { cpuSeconds, OPEN_LIMITS, pin, sleep } from './support.mjs';

const { values: opt } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    'pair-rate': { type: 'string', default: '10' },
    sinks: { type: 'string', default: '100' },
    variants: { type: 'string', default: 'baseline,one,many,one-open,many-open,one-noshield' },
    json: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
  },
});
const RATE = Number(opt.rate);
const SECONDS = Number(opt.seconds);
const PAIR_RATE = Number(opt['pair-rate']);
const SINKS = Number(opt.sinks);
const PASSWORD = 'bystander bench 1';

const DEFAULT_LIMITS = '[limits]\nmax_connections_per_address = 100000';

const VARIANTS = {
  baseline: { flood: 'none', config: DEFAULT_LIMITS },
  one: { flood: 'one', config: DEFAULT_LIMITS },
  many: { flood: 'many', config: DEFAULT_LIMITS },
  'one-open': { flood: 'one', config: OPEN_LIMITS },
  'many-open': { flood: 'many', config: OPEN_LIMITS },
  'one-noshield': { flood: 'one', config: `${OPEN_LIMITS}\n[flood]\nmode = "off"` },
};

function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** Server on CPU 1, load generator on CPU 0, as the shared bench harness does. */
const pinTo = (pid, cpu) => {
  if (!opt['no-pin']) pin(pid, cpu);
};

/** Calls `fn(n)` every 10 ms with the number of messages due, for `seconds`. */
async function paced(rate, seconds, fn) {
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
    if (due > 0) {
      fn(due, sent);
      sent += due;
    }
    await sleep(10);
  }
  return sent;
}

async function runVariant(name) {
  const variant = VARIANTS[name];
  if (!variant) throw new Error(`unknown variant ${name}`);
  const server = await startRampart({ config: variant.config, startTimeoutMs: 60_000 });
  const clients = [];
  pinTo(server.pid, 1);
  try {
    const sinks = variant.flood === 'many' ? SINKS : 1;
    const users = ['flooder', 'b1', 'b2', ...Array.from({ length: sinks }, (_, i) => `sink${i}`)];
    const imported = await server.cli(
      ['user', 'import', '-'],
      users.map((u) => `${u}@localhost,${PASSWORD}`).join('\n'),
    );
    if (imported.code !== 0) throw new Error(imported.stderr);
    // Contacts, so that no stranger policy stands between them.
    const pairs = ['b1@localhost,b2@localhost'];
    for (let i = 0; i < sinks; i++) pairs.push(`flooder@localhost,sink${i}@localhost`);
    const rostered = await server.cli(['roster', 'import', '-'], pairs.join('\n'));
    if (rostered.code !== 0) throw new Error(rostered.stderr);

    const login = async (username) => {
      const c = await RawClient.login({
        port: server.ports.c2s,
        username,
        password: PASSWORD,
        resource: 'bench',
        timeoutMs: 30_000,
      });
      c.send('<presence/>');
      clients.push(c);
      return c;
    };
    const [b1, b2, flooder] = [await login('b1'), await login('b2'), await login('flooder')];
    const sinkClients = [];
    for (let i = 0; i < sinks; i++) sinkClients.push(await login(`sink${i}`));
    // The flood's side only counts what arrives, without parsing it, so that this process
    // spends its time on the pair being measured.
    let measuring = false;
    let floodDelivered = 0;
    const countOnly = (c, onMessage) => {
      const socket = c.tlsSocket;
      socket.removeAllListeners('data');
      socket.setEncoding('utf8');
      let tail = '';
      socket.on('data', (chunk) => {
        const text = tail + chunk;
        let at = text.indexOf('</message>');
        while (at !== -1) {
          onMessage();
          at = text.indexOf('</message>', at + 10);
        }
        tail = text.slice(-9);
      });
    };
    countOnly(flooder, () => {});
    for (const c of sinkClients) {
      countOnly(c, () => {
        if (measuring) floodDelivered++;
      });
    }
    await sleep(1000);

    // The pair writes both ways, the send time in the body; the receiver records the one-way
    // latency (same process, same clock).
    const latencies = [];
    let stop = false;
    const receive = async (c, from) => {
      while (!stop) {
        let el;
        try {
          const isPair = (e) => e.name === 'message' && e.attrs.from?.startsWith(from);
          el = await c.next(isPair, 'a pair message', 2000);
        } catch {
          continue;
        }
        const sentAt = Number(el.getChildText('body')?.split(' ')[1]);
        if (measuring && Number.isFinite(sentAt)) latencies.push(performance.now() - sentAt);
      }
    };
    const receiving = Promise.all([receive(b2, 'b1@'), receive(b1, 'b2@')]);
    const send = (from, to) =>
      from.send(
        x('message', { to, type: 'chat' }, x('body', {}, `t ${performance.now()} bystander`)),
      );
    const pairSend = () => {
      send(b1, 'b2@localhost');
      send(b2, 'b1@localhost');
    };
    // Warm-up of the pair, then the measurement with the flood (if any) at the same time.
    await paced(PAIR_RATE, 2, (n) => {
      for (let i = 0; i < n; i++) pairSend();
    });
    measuring = true;
    const cpu0 = cpuSeconds(server.pid);
    const filler = 'x'.repeat(80);
    const flood =
      variant.flood === 'none'
        ? Promise.resolve(0)
        : paced(RATE, SECONDS, (n, sent) => {
            let out = '';
            for (let i = 0; i < n; i++) {
              const to = `sink${(sent + i) % sinks}@localhost`;
              out += x('message', { to, type: 'chat' }, x('body', {}, `${sent + i} ${filler}`));
            }
            flooder.write(out);
          });
    const pairSent =
      2 *
      (await paced(PAIR_RATE, SECONDS, (n) => {
        for (let i = 0; i < n; i++) pairSend();
      }));
    const floodSent = await flood;
    await sleep(1000);
    measuring = false;
    stop = true;
    await receiving;
    const cpu = cpuSeconds(server.pid) - cpu0;
    const sorted = latencies.sort((a, b) => a - b);
    return {
      variant: name,
      flood: variant.flood,
      floodRate: variant.flood === 'none' ? 0 : RATE,
      seconds: SECONDS,
      sinks,
      floodSent,
      floodDeliveredDuringRun: floodDelivered,
      pairSent,
      pairReceived: sorted.length,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      max: sorted[sorted.length - 1] ?? Number.NaN,
      serverCpuPercent: (cpu / (SECONDS + 1)) * 100,
      loadAverage1m: loadavg()[0],
    };
  } finally {
    for (const c of clients) c.destroy();
    await server.stop();
  }
}

pinTo(process.pid, 0);
const f = (n) => (Number.isFinite(n) ? n.toFixed(1) : '-');
console.log(
  `bystander bench: flood ${RATE}/s for ${SECONDS} s, pair ${PAIR_RATE}/s; ${cpus().length} × ${cpus()[0]?.model}; Node ${process.version}`,
);
console.log(
  'variant        flood sent  flood delivered  pair sent/recv   p50 ms  p99 ms  max ms  server CPU  load',
);
for (const name of opt.variants.split(',')) {
  const r = await runVariant(name.trim());
  console.log(
    `${r.variant.padEnd(14)} ${String(r.floodSent).padStart(10)}  ${String(r.floodDeliveredDuringRun).padStart(15)}  ${`${r.pairSent}/${r.pairReceived}`.padStart(14)}  ${f(r.p50).padStart(6)}  ${f(r.p99).padStart(6)}  ${f(r.max).padStart(6)}  ${f(r.serverCpuPercent).padStart(8)} %  ${f(r.loadAverage1m)}`,
  );
  if (opt.json)
    appendFileSync(opt.json, `${JSON.stringify({ ...r, time: new Date().toISOString() })}\n`);
}
