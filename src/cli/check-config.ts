// `rampart check-config`: shows the configuration Rampart would run with.
import { stringify } from 'smol-toml';
import { configFilePath, loadConfig } from '../config/load.ts';
import type { Command } from './command.ts';
import { serverConfigOptions, serverFlagsOf } from './config-options.ts';

// Key names that hold secrets; their values are never printed.
const SECRET = /(^|_)(password|secret|token|passphrase)(_|$)/i;

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      SECRET.test(k) && typeof v !== 'object' ? '(hidden)' : redact(v),
    ]),
  );
}

export const checkConfigCommand: Command = {
  name: ['check-config'],
  args: [],
  summary: 'Print the effective configuration (secrets hidden), or what is wrong with it.',
  details: 'Takes the same config flags as `rampart start`, so it shows what start would use.',
  options: serverConfigOptions(),
  async run(args, io) {
    const flags = serverFlagsOf(args);
    const config = loadConfig({ flags, env: io.env });
    const file = configFilePath({ flags, env: io.env });
    const origin = file === undefined ? 'no config file' : `config file ${file}`;
    io.stdout.write(`# effective configuration (${origin})\n`);
    io.stdout.write(`${stringify(redact(config) as Record<string, unknown>)}\n`);
  },
};
