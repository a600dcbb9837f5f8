// `rampart files quarantine ...`: uploads held by scanning (list, release, delete).
import { userInfo } from 'node:os';
import {
  deleteFromQuarantine,
  listQuarantine,
  releaseFromQuarantine,
} from '../admin/quarantine.ts';
import { withAdmin } from './admin-context.ts';
import { type Command, UsageError } from './command.ts';
import { printLine } from './io.ts';

const ACTIONS = ['list', 'release', 'delete'];

export const filesCommands: Command[] = [
  {
    name: ['files', 'quarantine'],
    args: ['ACTION', 'ID?'],
    summary: 'Uploads held by scanning: list | release ID | delete ID.',
    details:
      '`list` prints id, owner, name, size, real type, rule, reason and SHA-256 (tab-separated). `release ID` makes a held file downloadable; `delete ID` removes it for good. Both are recorded as security events.',
    options: {},
    async run(args, io) {
      const [action = '', id] = args.positionals;
      if (!ACTIONS.includes(action)) {
        throw new UsageError(`unknown action "${action}" (list, release ID or delete ID)`);
      }
      if (action !== 'list' && id === undefined) throw new UsageError(`${action} needs a file ID`);
      const admin = `admin:${userInfo().username}`;
      await withAdmin(args, io, async (_ops, config, storage) => {
        if (action === 'list') {
          for (const f of await listQuarantine(storage)) {
            printLine(
              io,
              [
                f.id,
                f.owner,
                f.name,
                f.size,
                f.detectedType ?? '-',
                f.verdictRule ?? '-',
                f.verdictReason ?? '-',
                f.sha256 ?? '-',
              ].join('\t'),
            );
          }
        } else if (action === 'release') {
          const f = await releaseFromQuarantine(storage, id!, admin);
          printLine(io, `released ${f.id} (${f.name} from ${f.owner}); it can be downloaded now`);
        } else {
          const f = await deleteFromQuarantine(storage, config, id!, admin);
          printLine(io, `deleted ${f.id} (${f.name} from ${f.owner})`);
        }
      });
    },
  },
];
