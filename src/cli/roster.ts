// `rampart roster ...`: admin-managed contacts (mutual subscriptions between local accounts).
import { parseRosterCsv } from '../admin/csv.ts';
import { withAdmin } from './admin-context.ts';
import type { Command } from './command.ts';
import { printLine, readInput } from './io.ts';

export const rosterCommands: Command[] = [
  {
    name: ['roster', 'add'],
    args: ['JID', 'CONTACT'],
    summary: 'Make two local accounts mutual contacts (subscription both on each side).',
    options: {},
    async run(args, io) {
      const [jidArg = '', contactArg = ''] = args.positionals;
      const { jid, contact } = await withAdmin(args, io, (ops) =>
        ops.addContact(jidArg, contactArg),
      );
      printLine(io, `added ${contact} to ${jid} and ${jid} to ${contact}`);
    },
  },
  {
    name: ['roster', 'remove'],
    args: ['JID', 'CONTACT'],
    summary: "Remove two accounts from each other's rosters.",
    options: {},
    async run(args, io) {
      const [jidArg = '', contactArg = ''] = args.positionals;
      const { jid, contact } = await withAdmin(args, io, (ops) =>
        ops.removeContact(jidArg, contactArg),
      );
      printLine(io, `removed ${contact} from ${jid} and ${jid} from ${contact}`);
    },
  },
  {
    name: ['roster', 'list'],
    args: ['JID'],
    summary: "Print an account's roster: contact, subscription, name, groups (tab-separated).",
    options: {},
    async run(args, io) {
      const items = await withAdmin(args, io, (ops) => ops.listRoster(args.positionals[0] ?? ''));
      for (const item of items) {
        printLine(
          io,
          [item.contact, item.subscription, item.name ?? '', item.groups.join(',')].join('\t'),
        );
      }
    },
  },
  {
    name: ['roster', 'import'],
    args: ['FILE'],
    summary: 'Make mutual contacts from a CSV file of jid,contact lines ("-" for standard input).',
    details:
      'Blank lines and lines starting with # are skipped. A bad line stops the import before anything is written.',
    options: {},
    async run(args, io) {
      const rows = parseRosterCsv(await readInput(args.positionals[0] ?? '-', io));
      const { pairs } = await withAdmin(args, io, (ops) => ops.importRoster(rows));
      printLine(io, `added ${pairs} contact pairs`);
    },
  },
];
