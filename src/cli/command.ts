import { parseArgs } from 'node:util';
import type { CliIo } from './io.ts';

/** A failure reported as `rampart: <message>` with the given exit status. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Wrong arguments: exit status 2. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';

  constructor(message: string) {
    super(message, 2);
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** e.g. 'FILE'; shown in help for string options. */
  value?: string;
  help: string;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface Command {
  /** Words after `rampart`, e.g. ['user', 'add']. */
  name: readonly string[];
  /** Positional arguments as shown in usage, e.g. ['JID', 'CONTACT']; a '?' suffix marks optional. */
  args: readonly string[];
  summary: string;
  /** Longer explanation printed by --help. */
  details?: string;
  options: Readonly<Record<string, OptionSpec>>;
  run(args: ParsedArgs, io: CliIo): Promise<void>;
}

/** Options every command takes. */
export const commonOptions: Readonly<Record<string, OptionSpec>> = {
  config: { type: 'string', value: 'FILE', help: 'TOML config file (default: $RAMPART_CONFIG)' },
  'data-dir': { type: 'string', value: 'DIR', help: 'data directory (overrides the config)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export function allOptions(command: Command): Record<string, OptionSpec> {
  return { ...command.options, ...commonOptions };
}

/** Parses argv for one command; unknown options and wrong argument counts are usage errors. */
export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  const specs = allOptions(command);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] =
      spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short };
  }
  let parsed: ParsedArgs;
  try {
    const result = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    parsed = { values: result.values as ParsedArgs['values'], positionals: result.positionals };
  } catch (err) {
    throw new UsageError(
      `${explainParseError(err as Error & { code?: string })} (see ${helpHint(command)})`,
    );
  }
  if (parsed.values.help === true) return parsed;
  const required = command.args.filter((a) => !a.endsWith('?')).length;
  if (parsed.positionals.length < required) {
    const missing = command.args[parsed.positionals.length] ?? 'argument';
    throw new UsageError(`missing ${missing} (see ${helpHint(command)})`);
  }
  if (parsed.positionals.length > command.args.length) {
    const extra = parsed.positionals[command.args.length];
    throw new UsageError(`unexpected argument "${extra}" (see ${helpHint(command)})`);
  }
  return parsed;
}

function explainParseError(err: Error & { code?: string }): string {
  const option = /'(-[^' ]+)/.exec(err.message)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return option === undefined ? 'bad option value' : `option ${option} needs a value`;
    default:
      return err.message.split('\n')[0] ?? 'bad arguments';
  }
}

export function helpHint(command: Command): string {
  return `rampart ${command.name.join(' ')} --help`;
}

export function usageLine(command: Command): string {
  const args = command.args.map((a) => (a.endsWith('?') ? `[${a.slice(0, -1)}]` : a));
  return ['rampart', ...command.name, ...args, '[options]'].join(' ');
}

export function commandHelp(command: Command): string {
  const lines = [`Usage: ${usageLine(command)}`, '', command.summary];
  if (command.details !== undefined) lines.push('', command.details);
  lines.push('', 'Options:');
  const rows = Object.entries(allOptions(command)).map(([name, spec]) => {
    const short = spec.short === undefined ? '    ' : `-${spec.short}, `;
    const value = spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : '';
    return [`${short}--${name}${value}`, spec.help] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  for (const [left, help] of rows) lines.push(`  ${left.padEnd(width)}${help}`);
  return `${lines.join('\n')}\n`;
}
