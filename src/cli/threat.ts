// `rampart threat ...`: server-wide blocks of links, domains and files (T2).
import { withAdmin } from './admin-context.ts';
import type { Command } from './command.ts';
import { printLine } from './io.ts';

const when = (ms: number | undefined): string =>
  ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export const threatCommands: Command[] = [
  {
    name: ['threat', 'block'],
    args: ['TARGET'],
    summary: 'Block a URL, a domain (and its subdomains) or a file SHA-256 on the whole server.',
    details: [
      'Messages carrying it are refused from now on, and the copies delivered in the last',
      '7 days are retracted (XEP-0424) or removed from offline storage.',
      'Examples: rampart threat block http://192.0.2.7:8180/',
      '          rampart threat block evil.example --reason "phishing kit"',
    ].join('\n'),
    options: {
      reason: { type: 'string', value: 'TEXT', help: 'why, in words senders and admins will see' },
    },
    async run(args, io) {
      const reason = typeof args.values.reason === 'string' ? args.values.reason : undefined;
      const block = await withAdmin(args, io, (ops) =>
        ops.blockArtefact(args.positionals[0] ?? '', reason),
      );
      printLine(io, `blocked ${block.kind} ${block.value}`);
    },
  },
  {
    name: ['threat', 'unblock'],
    args: ['TARGET'],
    summary: 'Lift a server-wide block (copies already retracted stay retracted).',
    options: {},
    async run(args, io) {
      const { kind, value } = await withAdmin(args, io, (ops) =>
        ops.unblockArtefact(args.positionals[0] ?? ''),
      );
      printLine(io, `unblocked ${kind} ${value}`);
    },
  },
  {
    name: ['threat', 'list'],
    args: [],
    summary:
      'List server-wide blocks: kind, value, source, created, purged, reason (tab-separated).',
    options: {},
    async run(args, io) {
      const blocks = await withAdmin(args, io, (ops) => ops.listBlocks());
      for (const b of blocks) {
        printLine(
          io,
          [b.kind, b.value, b.source, when(b.createdAt), when(b.purgedAt), b.reason].join('\t'),
        );
      }
    },
  },
];
