import { notifyServerMany } from '../admin/control-socket.ts';
import { type AdminOperations, createAdminOperations } from '../admin/operations.ts';
import { loadConfig } from '../config/load.ts';
import { type Config, configSchema } from '../config/schema.ts';
import type { Storage } from '../storage/ports.ts';
import type { ParsedArgs } from './command.ts';
import type { CliIo } from './io.ts';

/** The config flags every admin command takes, for loadConfig. */
export function configFlagsOf(args: ParsedArgs): Record<string, string | undefined> {
  const pick = (name: string): string | undefined => {
    const v = args.values[name];
    return typeof v === 'string' ? v : undefined;
  };
  return { config: pick('config'), 'data-dir': pick('data-dir') };
}

/**
 * Loads the config, opens storage, runs `fn` with the admin operations and closes storage.
 * Changes reach a running server through its control socket.
 */
export async function withAdmin<T>(
  args: ParsedArgs,
  io: CliIo,
  fn: (ops: AdminOperations, config: Config, storage: Storage) => Promise<T>,
): Promise<T> {
  let config = loadConfig({ flags: configFlagsOf(args), env: io.env });
  const { openStorage } = await import('../storage/open.ts');
  const storage = await openStorage({ dataDir: config.data_dir });
  // A data directory belongs to one server: unless a domain was configured, use the one that
  // server recorded when it started (e.g. `rampart start --domain example.com`).
  const recorded = await storage.kv.get('@server', 'domain');
  if (recorded && config.domain === configSchema.shape.domain.parse(undefined)) {
    config = { ...config, domain: recorded };
  }
  try {
    const ops = createAdminOperations({
      storage,
      config,
      notify: (events) => notifyServerMany(config.data_dir, events),
    });
    return await fn(ops, config, storage);
  } finally {
    await storage.close();
  }
}
