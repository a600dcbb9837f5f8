// `rampart events ...`: the security events (every defence that acted), read straight from
// the database: a live tail, a JSON-lines export for a SIEM, and counts per rule and hour.
import type { StoredSecurityEvent } from '../storage/ports.ts';
import { withAdmin } from './admin-context.ts';
import { type Command, UsageError } from './command.ts';
import { type CliIo, printLine } from './io.ts';

const PAGE = 1000;
const FOLLOW_POLL_MS = 1000;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO date or time, or a duration back from now ("90s", "15m", "24h", "7d"). */
export function parseSince(text: string, now = Date.now()): number {
  const duration = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2]!]!;
  const time = Date.parse(text);
  if (Number.isNaN(time)) {
    throw new UsageError(
      `--since "${text}" is neither an ISO time (2026-01-31T12:00:00Z) nor a duration (15m, 24h, 7d)`,
    );
  }
  return time;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** One line a person can scan: time, threat, rule, verdict, actor → target, evidence. */
export function formatEvent(e: StoredSecurityEvent): string {
  const evidence = e.evidence === undefined ? '' : JSON.stringify(e.evidence);
  const shown = evidence.length > 300 ? `${evidence.slice(0, 299)}…` : evidence;
  const target = e.target === undefined ? '' : ` -> ${e.target}`;
  return `${iso(e.time)} ${e.threat} ${e.rule} ${e.verdict} ${e.actor}${target} ${shown}`.trimEnd();
}

function sinceOption(args: { values: Record<string, unknown> }, fallback?: string) {
  const raw = typeof args.values.since === 'string' ? args.values.since : fallback;
  return raw === undefined ? undefined : parseSince(raw);
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function follow(
  io: CliIo,
  list: (afterId: number) => Promise<StoredSecurityEvent[]>,
  afterId: number,
): Promise<never> {
  let last = afterId;
  for (;;) {
    for (const e of await list(last)) {
      printLine(io, formatEvent(e));
      last = e.id;
    }
    await wait(FOLLOW_POLL_MS);
  }
}

export const eventsCommands: Command[] = [
  {
    name: ['events', 'tail'],
    args: [],
    summary: 'Show the latest security events; --follow keeps printing new ones.',
    options: {
      lines: { type: 'string', short: 'n', value: 'N', help: 'how many to show (default 20)' },
      follow: { type: 'boolean', short: 'f', help: 'keep running and print new events' },
      rule: { type: 'string', value: 'RULE', help: 'only events of this rule' },
    },
    async run(args, io) {
      const n = Number(args.values.lines ?? 20);
      if (!Number.isInteger(n) || n < 0) throw new UsageError('--lines must be a whole number');
      const rule = typeof args.values.rule === 'string' ? args.values.rule : undefined;
      const filter = rule === undefined ? {} : { rule };
      await withAdmin(args, io, async (_ops, _config, storage) => {
        const latest = await storage.events.list({ ...filter, limit: n });
        for (const e of latest) printLine(io, formatEvent(e));
        if (args.values.follow !== true) return;
        const newest = (await storage.events.list({ limit: 1 }))[0]?.id ?? 0;
        io.stderr.write('rampart: following new security events (Ctrl-C to stop)\n');
        await follow(io, (afterId) => storage.events.list({ ...filter, afterId }), newest);
      });
    },
  },
  {
    name: ['events', 'export'],
    args: [],
    summary: 'Write security events as JSON lines (for a SIEM): rampart events export --since 24h.',
    options: {
      since: {
        type: 'string',
        value: 'WHEN',
        help: 'ISO time or duration back from now (15m, 24h, 7d); default: everything',
      },
    },
    async run(args, io) {
      const since = sinceOption(args);
      await withAdmin(args, io, async (_ops, _config, storage) => {
        let afterId = 0;
        for (;;) {
          const page = await storage.events.list({
            afterId,
            limit: PAGE,
            ...(since === undefined ? {} : { since }),
          });
          for (const e of page) io.stdout.write(`${JSON.stringify({ ...e, time: iso(e.time) })}\n`);
          if (page.length < PAGE) return;
          afterId = page[page.length - 1]!.id;
        }
      });
    },
  },
  {
    name: ['events', 'stats'],
    args: [],
    summary: 'Count security events per rule and per hour (default: the last 24 hours).',
    options: {
      since: { type: 'string', value: 'WHEN', help: 'ISO time or duration (default 24h)' },
    },
    async run(args, io) {
      const since = sinceOption(args, '24h')!;
      const events = await withAdmin(args, io, (_ops, _config, storage) =>
        storage.events.list({ since }),
      );
      const perRule = new Map<string, { threat: string; count: number }>();
      const perHour = new Map<string, number>();
      for (const e of events) {
        const r = perRule.get(e.rule) ?? { threat: e.threat, count: 0 };
        r.count += 1;
        perRule.set(e.rule, r);
        const hour = `${new Date(e.time).toISOString().slice(0, 13)}:00Z`;
        perHour.set(hour, (perHour.get(hour) ?? 0) + 1);
      }
      printLine(io, `security events since ${iso(since)}: ${events.length}`);
      printLine(io, '');
      printLine(io, `${'rule'.padEnd(28)}${'threat'.padEnd(8)}events`);
      const rules = [...perRule.entries()].sort((a, b) => b[1].count - a[1].count);
      for (const [rule, r] of rules)
        printLine(io, `${rule.padEnd(28)}${r.threat.padEnd(8)}${r.count}`);
      printLine(io, '');
      printLine(io, `${'hour (UTC)'.padEnd(28)}events`);
      for (const [hour, count] of [...perHour.entries()].sort()) {
        printLine(io, `${hour.padEnd(28)}${count}`);
      }
    },
  },
];
