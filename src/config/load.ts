import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { prepDomain } from '../stanza/jid.ts';
import {
  ConfigError,
  type ConfigSource,
  describeAllowed,
  describeSource,
  didYouMean,
  showValue,
} from './errors.ts';
import {
  type Config,
  type ConfigKeyInfo,
  configFlags,
  configSchema,
  listConfigKeys,
} from './schema.ts';

export interface LoadConfigInput {
  /** Parsed CLI flags by name without dashes ('data-dir'); `config` names the file. */
  flags: Record<string, string | undefined>;
  env: NodeJS.ProcessEnv;
  /** Base for relative paths given by flags, environment and defaults; process.cwd() when unset. */
  cwd?: string;
}

const ENV_PREFIX = 'RAMPART_';
const ENV_CONFIG = 'RAMPART_CONFIG';

const KEYS = listConfigKeys();
const BY_KEY = new Map(KEYS.map((k) => [k.key, k]));
const BY_ENV = new Map(KEYS.map((k) => [k.env, k]));
/** Every table and nested table that holds keys ('limits', 'policy', 'policy.modes', ...). */
const TABLES = new Set(
  KEYS.flatMap((k) => k.path.slice(1).map((_, i) => k.path.slice(0, i + 1).join('.'))),
);
const TOP_LEVEL_NAMES = [
  ...KEYS.filter((k) => k.path.length === 1).map((k) => k.key),
  ...[...TABLES].filter((t) => !t.includes('.')),
];

/** The config file named by --config, else RAMPART_CONFIG; undefined when neither is set. */
export function configFilePath(input: LoadConfigInput): string | undefined {
  const fromFlag = input.flags.config;
  if (fromFlag !== undefined && fromFlag !== '') return fromFlag;
  const fromEnv = input.env[ENV_CONFIG];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/**
 * Builds the effective configuration: schema defaults < config file < RAMPART_* environment
 * < CLI flags. Throws ConfigError naming the key, its source and what is allowed.
 */
export function loadConfig(input: LoadConfigInput): Config {
  const cwd = input.cwd ?? process.cwd();
  const layers = new Layers();
  const file = configFilePath(input);
  if (file !== undefined) readConfigFile(file, cwd, layers);
  readEnvironment(input.env, cwd, layers);
  readFlags(input.flags, cwd, layers);

  const parsed = configSchema.safeParse(layers.raw);
  if (!parsed.success) throw issueError(parsed.error.issues[0], layers);
  const config = parsed.data;
  checkCrossKeyRules(config, layers);
  resolveDefaultPaths(config, cwd);
  return config;
}

/** The merged raw values, and where each leaf came from (for error messages). */
class Layers {
  readonly raw: Record<string, unknown> = {};
  readonly sources = new Map<string, ConfigSource>();

  set(info: ConfigKeyInfo, value: unknown, source: ConfigSource): void {
    let node = this.raw;
    for (const part of info.path.slice(0, -1)) {
      const next = node[part];
      if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
      else node = node[part] = {};
    }
    node[info.path[info.path.length - 1] as string] = value;
    this.sources.set(info.key, source);
  }

  get(info: ConfigKeyInfo): unknown {
    let node: unknown = this.raw;
    for (const part of info.path) {
      if (typeof node !== 'object' || node === null) return undefined;
      node = (node as Record<string, unknown>)[part];
    }
    return node;
  }

  describe(key: string): string {
    return describeSource(this.sources.get(key) ?? { kind: 'default' });
  }
}

function readConfigFile(file: string, cwd: string, layers: Layers): void {
  const absolute = resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new ConfigError(`config error: cannot read config file ${file}: ${why ?? String(err)}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const why = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
    throw new ConfigError(`config error: invalid TOML in ${file}, line ${err.line}: ${why}`);
  }
  const baseDir = dirname(absolute);
  const sourceOf = (key: string): ConfigSource => {
    const line = findTomlLine(text, key);
    return line === undefined ? { kind: 'file', file } : { kind: 'file', file, line };
  };
  const unknownKey = (key: string, candidates: Iterable<string>): ConfigError => {
    const hint = didYouMean(key, candidates);
    const where = describeSource(sourceOf(key));
    return new ConfigError(
      `unknown key "${key}" ${where}${hint === undefined ? '' : `; did you mean "${hint}"?`}`,
    );
  };
  const setLeaf = (info: ConfigKeyInfo, value: unknown): void => {
    const resolved =
      info.isPath && typeof value === 'string' && value !== '' ? resolve(baseDir, value) : value;
    layers.set(info, resolved, sourceOf(info.key));
  };

  // Tables may nest ([policy.modes]); a key naming a leaf takes its value whole, even a table.
  const walk = (table: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(table)) {
      const key = prefix === '' ? name : `${prefix}.${name}`;
      const info = BY_KEY.get(key);
      if (info !== undefined) {
        setLeaf(info, value);
        continue;
      }
      if (TABLES.has(key)) {
        if (!isTable(value)) {
          throw new ConfigError(
            `config error: ${key} (${describeSource(sourceOf(key))}): must be a table ([${key}]), got ${showValue(value)}`,
          );
        }
        walk(value, key);
        continue;
      }
      const candidates =
        prefix === ''
          ? [...TOP_LEVEL_NAMES, ...BY_KEY.keys()]
          : KEYS.filter((k) => k.key.startsWith(`${prefix}.`)).map((k) => k.key);
      throw unknownKey(key, candidates);
    }
  };
  walk(doc, '');
}

function isTable(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

/**
 * Best-effort line number of a dotted key in TOML text: understands [table] headers and
 * dotted keys; for keys inside an inline table it returns the table's line.
 */
export function findTomlLine(text: string, key: string): number | undefined {
  const lines = text.split(/\r?\n/);
  let table = '';
  let enclosing: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?/.exec(line);
    if (header) {
      table = normaliseTomlKey(header[1] ?? '');
      if (table === key) return i + 1;
      continue;
    }
    const assignment = /^([A-Za-z0-9_\-."' ]+?)\s*=/.exec(line);
    if (!assignment) continue;
    const local = normaliseTomlKey(assignment[1] ?? '');
    const full = table === '' ? local : `${table}.${local}`;
    if (full === key) return i + 1;
    if (key.startsWith(`${full}.`)) enclosing ??= i + 1;
  }
  return enclosing;
}

function normaliseTomlKey(raw: string): string {
  return raw
    .split('.')
    .map((p) => p.trim().replace(/^["']|["']$/g, ''))
    .join('.');
}

function readEnvironment(env: NodeJS.ProcessEnv, cwd: string, layers: Layers): void {
  const names = Object.keys(env)
    .filter((n) => n.startsWith(ENV_PREFIX) && n !== ENV_CONFIG)
    .sort();
  for (const name of names) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const info = BY_ENV.get(name);
    if (info !== undefined) {
      layers.set(info, coerce(info, value, cwd), { kind: 'env', name });
      continue;
    }
    const rest = name.slice(ENV_PREFIX.length);
    if (TABLES.has(rest.toLowerCase())) {
      const example = KEYS.find((k) => k.path[0] === rest.toLowerCase())?.env;
      throw new ConfigError(
        `config error: environment variable ${name} names a table; set its keys one by one (e.g. ${example})`,
      );
    }
    const hint = didYouMean(
      rest,
      KEYS.map((k) => k.env.slice(ENV_PREFIX.length)),
    );
    // Only names that look like config are refused, so unrelated RAMPART_* variables pass.
    if (!/^[A-Z0-9_]+$/.test(rest) || (hint === undefined && !rest.includes('__'))) continue;
    throw new ConfigError(
      `unknown environment variable ${name}${hint === undefined ? '' : `; did you mean ${ENV_PREFIX}${hint}?`}`,
    );
  }
}

function readFlags(flags: Record<string, string | undefined>, cwd: string, layers: Layers): void {
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw new ConfigError(
      flags.cert === undefined
        ? 'config error: --key given without --cert'
        : 'config error: --cert given without --key',
    );
  }
  for (const [flag, key] of Object.entries(configFlags)) {
    const value = flags[flag];
    const info = BY_KEY.get(key);
    if (value === undefined || info === undefined) continue;
    layers.set(info, coerce(info, value, cwd), { kind: 'flag', name: flag });
  }
}

/**
 * Turns environment/flag text into the schema's type. Text that does not fit is passed
 * through unchanged so that validation reports it with the allowed values.
 */
function coerce(info: ConfigKeyInfo, text: string, cwd: string): unknown {
  const t = text.trim();
  switch (info.kind) {
    case 'integer':
      return /^[+-]?\d+$/.test(t) ? Number(t) : text;
    case 'number':
      return t !== '' && Number.isFinite(Number(t)) ? Number(t) : text;
    case 'boolean': {
      const lower = t.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(lower)) return true;
      if (['false', '0', 'no', 'off'].includes(lower)) return false;
      return text;
    }
    case 'table':
      try {
        return JSON.parse(t) as unknown;
      } catch {
        return text;
      }
    case 'list':
      return t
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    default:
      return info.isPath && t !== '' ? resolve(cwd, t) : text;
  }
}

function issueError(issue: z.core.$ZodIssue | undefined, layers: Layers): ConfigError {
  if (issue === undefined) return new ConfigError('config error: invalid configuration');
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const key = [...path, issue.keys[0] ?? ''].join('.');
    return new ConfigError(`unknown key "${key}"`);
  }
  for (let n = path.length; n > 0; n--) {
    const info = BY_KEY.get(path.slice(0, n).join('.'));
    if (info === undefined) continue;
    return new ConfigError(
      `config error: ${info.key} (${layers.describe(info.key)}): must be ${describeAllowed(info)}, got ${showValue(layers.get(info))}`,
    );
  }
  const key = path.join('.') || '(top level)';
  return new ConfigError(`config error: ${key} (${layers.describe(key)}): ${issue.message}`);
}

function checkCrossKeyRules(config: Config, layers: Layers): void {
  try {
    config.domain = prepDomain(config.domain);
  } catch (err) {
    throw new ConfigError(
      `config error: domain (${layers.describe('domain')}): must be a valid domain name, got ${JSON.stringify(config.domain)} (${(err as Error).message})`,
    );
  }
  if ((config.tls.cert === undefined) !== (config.tls.key === undefined)) {
    const [set, missing] = config.tls.cert === undefined ? ['key', 'cert'] : ['cert', 'key'];
    throw new ConfigError(
      `config error: tls.${set} (${layers.describe(`tls.${set}`)}) is set but tls.${missing} is not; set both or neither`,
    );
  }
  const policy = config.password_policy;
  if (policy.min_length > policy.max_length) {
    throw new ConfigError(
      `config error: password_policy.min_length (${layers.describe('password_policy.min_length')}): must not exceed password_policy.max_length (${policy.max_length}), got ${policy.min_length}`,
    );
  }
  if (config.auth.backoff_base_ms > config.auth.backoff_max_ms) {
    throw new ConfigError(
      `config error: auth.backoff_base_ms (${layers.describe('auth.backoff_base_ms')}): must not exceed auth.backoff_max_ms (${config.auth.backoff_max_ms}), got ${config.auth.backoff_base_ms}`,
    );
  }
}

// Defaults such as "./data" are relative to where the command runs.
function resolveDefaultPaths(config: Config, cwd: string): void {
  if (!isAbsolute(config.data_dir)) config.data_dir = resolve(cwd, config.data_dir);
  if (config.pid_file !== undefined && !isAbsolute(config.pid_file)) {
    config.pid_file = resolve(cwd, config.pid_file);
  }
}
