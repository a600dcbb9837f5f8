// `rampart user ...`: account administration through the shared admin operations.
import { parseUserCsv } from '../admin/csv.ts';
import { withAdmin } from './admin-context.ts';
import { type Command, UsageError } from './command.ts';
import { printLine, readInput, readPasswordFromStdin } from './io.ts';
import { createProgress } from './progress.ts';

const passwordStdin = {
  'password-stdin': {
    type: 'boolean',
    help: 'read the password from standard input (required; one line)',
  },
} as const;

function requirePasswordStdin(values: Record<string, unknown>, verb: string): void {
  if (values['password-stdin'] !== true) {
    throw new UsageError(
      `user ${verb} needs --password-stdin (the password is read from standard input)`,
    );
  }
}

export const userCommands: Command[] = [
  {
    name: ['user', 'add'],
    args: ['JID'],
    summary: 'Create an account; the password is read from standard input.',
    details:
      'Example: printf "%s\\n" "$PASSWORD" | rampart user add alice@example.com --password-stdin',
    options: passwordStdin,
    async run(args, io) {
      requirePasswordStdin(args.values, 'add');
      const password = await readPasswordFromStdin(io);
      const { jid } = await withAdmin(args, io, (ops) =>
        ops.addUser(args.positionals[0] ?? '', password),
      );
      printLine(io, `added ${jid}`);
    },
  },
  {
    name: ['user', 'passwd'],
    args: ['JID'],
    summary:
      "Change an account's password and end its sessions; the password is read from standard input.",
    options: passwordStdin,
    async run(args, io) {
      requirePasswordStdin(args.values, 'passwd');
      const password = await readPasswordFromStdin(io);
      const { jid } = await withAdmin(args, io, (ops) =>
        ops.setPassword(args.positionals[0] ?? '', password),
      );
      printLine(io, `changed password of ${jid}`);
    },
  },
  {
    name: ['user', 'remove'],
    args: ['JID'],
    summary: 'Delete an account with its roster and stored messages, and end its sessions.',
    options: {},
    async run(args, io) {
      const { jid } = await withAdmin(args, io, (ops) => ops.removeUser(args.positionals[0] ?? ''));
      printLine(io, `removed ${jid}`);
    },
  },
  {
    name: ['user', 'release'],
    args: ['JID'],
    summary:
      'Lift the quarantine of an account (stopped for spreading a worm): it may sign in again.',
    options: {},
    async run(args, io) {
      const { jid, reason } = await withAdmin(args, io, (ops) =>
        ops.releaseUser(args.positionals[0] ?? ''),
      );
      printLine(io, `released ${jid} (was quarantined: ${reason})`);
    },
  },
  {
    name: ['user', 'list'],
    args: [],
    summary: 'List accounts, one JID per line.',
    options: { domain: { type: 'string', value: 'D', help: 'only accounts on this domain' } },
    async run(args, io) {
      const domain = typeof args.values.domain === 'string' ? args.values.domain : undefined;
      const jids = await withAdmin(args, io, (ops) => ops.listUsers(domain));
      if (jids.length > 0) io.stdout.write(`${jids.join('\n')}\n`);
    },
  },
  {
    name: ['user', 'import'],
    args: ['FILE'],
    summary: 'Create accounts from a CSV file ("-" for standard input).',
    details: [
      'Each line is jid,password; everything after the first comma is the password.',
      'Blank lines and lines starting with # are skipped. A bad line stops the import',
      'before anything is written. Accounts that already exist are left unchanged.',
    ].join('\n'),
    options: {},
    async run(args, io) {
      const rows = parseUserCsv(await readInput(args.positionals[0] ?? '-', io));
      const progress = createProgress(io, 'importing');
      const result = await withAdmin(args, io, (ops) =>
        ops.importUsers(rows, { onProgress: (done, total) => progress.update(done, total) }),
      ).finally(() => progress.finish());
      printLine(io, `created ${result.created}, skipped ${result.existing.length} existing`);
    },
  },
];
