import { type ConfigKeyInfo, configFlags, listConfigKeys } from '../config/schema.ts';
import type { OptionSpec, ParsedArgs } from './command.ts';

const VALUE_NAMES: Record<string, string> = {
  domain: 'D',
  'data-dir': 'DIR',
  bind: 'ADDR',
  'c2s-port': 'N',
  'c2s-tls-port': 'N',
  'https-port': 'N',
  cert: 'FILE',
  key: 'FILE',
  'pid-file': 'FILE',
  'log-level': 'L',
};

/** Every config flag (--domain, --c2s-port, --cert ...), with help from the schema. */
export function serverConfigOptions(): Record<string, OptionSpec> {
  const byKey = new Map<string, ConfigKeyInfo>(listConfigKeys().map((k) => [k.key, k]));
  const out: Record<string, OptionSpec> = {};
  for (const [flag, key] of Object.entries(configFlags)) {
    const description = byKey.get(key)?.description ?? key;
    out[flag] = {
      type: 'string',
      value: VALUE_NAMES[flag] ?? 'VALUE',
      help: `${description} (${key})`,
    };
  }
  return out;
}

/** The parsed values of --config and every config flag, for loadConfig. */
export function serverFlagsOf(args: ParsedArgs): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of ['config', ...Object.keys(configFlags)]) {
    const v = args.values[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}
