// Finds the command named on the command line, runs it, and turns failures into exit codes.
import { AdminError } from '../admin/errors.ts';
import { ConfigError } from '../config/errors.ts';
import { checkConfigCommand } from './check-config.ts';
import {
  CliError,
  type Command,
  commandHelp,
  commonOptions,
  parseCommandArgs,
  UsageError,
  usageLine,
} from './command.ts';
import { eventsCommands } from './events.ts';
import { filesCommands } from './files.ts';
import { heldCommands } from './held.ts';
import type { CliIo } from './io.ts';
import { policyCommands } from './policy.ts';
import { rosterCommands } from './roster.ts';
import { startCommand } from './start.ts';
import { threatCommands } from './threat.ts';
import { userCommands } from './user.ts';

const COMMANDS: readonly Command[] = [
  startCommand,
  checkConfigCommand,
  ...userCommands,
  ...rosterCommands,
  ...threatCommands,
  ...filesCommands,
  ...policyCommands,
  ...eventsCommands,
  ...heldCommands,
];

const GROUPS = new Set(COMMANDS.filter((c) => c.name.length > 1).map((c) => c.name[0] as string));

function overview(commands: readonly Command[], title: string): string {
  const rows = commands.map((c) => [
    usageLine(c).replace(/^rampart | \[options\]$/g, ''),
    c.summary,
  ]);
  const width = Math.max(...rows.map(([left]) => (left ?? '').length)) + 2;
  const lines = [title, '', 'Commands:'];
  for (const [left = '', summary = ''] of rows) lines.push(`  ${left.padEnd(width)}${summary}`);
  lines.push('', 'Options for every command:');
  for (const [name, spec] of Object.entries(commonOptions)) {
    const value = spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : '';
    const short = spec.short === undefined ? '    ' : `-${spec.short}, `;
    lines.push(`  ${`${short}--${name}${value}`.padEnd(20)}${spec.help}`);
  }
  lines.push('', 'Run `rampart <command> --help` for details.');
  return `${lines.join('\n')}\n`;
}

const isHelp = (arg: string | undefined): boolean => arg === '--help' || arg === '-h';

/** Runs one invocation; returns the exit status (0 ok, 1 failure, 2 usage error). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    await dispatch(argv, io);
    return 0;
  } catch (err) {
    const { message, exitCode } = describeFailure(err);
    io.stderr.write(`rampart: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    return exitCode;
  }
}

async function dispatch(argv: string[], io: CliIo): Promise<void> {
  const [first, second] = argv;
  if (first === undefined) throw new UsageError('missing command (see rampart --help)');
  if (isHelp(first) || first === 'help') {
    io.stdout.write(overview(COMMANDS, 'Usage: rampart <command> [options]'));
    return;
  }
  if (GROUPS.has(first)) {
    const group = COMMANDS.filter((c) => c.name[0] === first);
    if (second === undefined || isHelp(second)) {
      if (second === undefined) {
        const names = group.map((c) => c.name[1]).join(', ');
        throw new UsageError(`missing ${first} command (${names}; see rampart ${first} --help)`);
      }
      io.stdout.write(overview(group, `Usage: rampart ${first} <command> [options]`));
      return;
    }
    const command = group.find((c) => c.name[1] === second);
    if (command === undefined) {
      throw new UsageError(`unknown command "${first} ${second}" (see rampart ${first} --help)`);
    }
    return runCommand(command, argv.slice(2), io);
  }
  const command = COMMANDS.find((c) => c.name.length === 1 && c.name[0] === first);
  if (command === undefined)
    throw new UsageError(`unknown command "${first}" (see rampart --help)`);
  return runCommand(command, argv.slice(1), io);
}

async function runCommand(command: Command, argv: string[], io: CliIo): Promise<void> {
  const args = parseCommandArgs(command, argv);
  if (args.values.help === true) {
    io.stdout.write(commandHelp(command));
    return;
  }
  await command.run(args, io);
}

function describeFailure(err: unknown): { message: string; exitCode: number } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof ConfigError || err instanceof AdminError) {
    return { message: err.message, exitCode: 1 };
  }
  if (err instanceof Error) return { message: err.message || err.name, exitCode: 1 };
  return { message: String(err), exitCode: 1 };
}
