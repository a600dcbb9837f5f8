// `rampart policy reload`: the running server re-reads its configuration and applies the
// [policy] section at once; a bad configuration leaves the running policy in place.

import { resolve } from 'node:path';
import { askServer, NoServerError } from '../admin/control-socket.ts';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { configFlagsOf } from './admin-context.ts';
import { CliError, type Command } from './command.ts';
import { printLine } from './io.ts';

export const policyCommands: Command[] = [
  {
    name: ['policy', 'reload'],
    args: [],
    summary: 'Make the running server re-read its config and apply the [policy] section.',
    details: [
      'The server reads the same file and environment it was started with (so does SIGHUP).',
      'If the new configuration is invalid, the running policy stays and the error names the',
      'key and what it must be. Other sections need a restart.',
    ].join('\n'),
    options: {},
    async run(args, io) {
      let dataDir: string;
      try {
        dataDir = loadConfig({ flags: configFlagsOf(args), env: io.env }).data_dir;
      } catch (err) {
        // The server reads the file itself and names the bad key; it needs only the directory.
        const flag = args.values['data-dir'];
        if (!(err instanceof ConfigError) || typeof flag !== 'string') {
          throw new CliError(`${(err as Error).message}; the running policy is unchanged`);
        }
        dataDir = resolve(flag);
      }
      try {
        await askServer(dataDir, { type: 'policyReload' });
      } catch (err) {
        if (err instanceof NoServerError) throw new CliError(err.message);
        const message = (err as Error).message
          .replace(/^the running server refused the change: /, '')
          .replace(/^handler failed: /, '');
        throw new CliError(message);
      }
      printLine(io, 'threat policy reloaded');
    },
  },
];
