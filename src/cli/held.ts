// `rampart held ...`: messages the threat engine kept (contact requests from strangers and
// holds for review). Release delivers through the running server, or, when none runs, puts
// the messages in offline storage for the recipient's next login.
import { askServer, NoServerError } from '../admin/control-socket.ts';
import type { HeldKind, HeldMessage, Storage } from '../storage/ports.ts';
import { withAdmin } from './admin-context.ts';
import { CliError, type Command, UsageError } from './command.ts';
import { printLine } from './io.ts';

function parseIds(text: string): number[] {
  const ids = text.split(',').map((s) => Number(s.trim()));
  if (ids.length === 0 || ids.some((id) => !Number.isInteger(id) || id <= 0)) {
    throw new UsageError(`"${text}" is not a held-message id or a comma-separated list of ids`);
  }
  return ids;
}

async function found(storage: Storage, ids: number[]): Promise<HeldMessage[]> {
  const held = await Promise.all(ids.map((id) => storage.held.get(id)));
  const missing = ids.filter((_, i) => held[i] === undefined);
  if (missing.length > 0) throw new CliError(`no held message with id ${missing.join(', ')}`);
  return held as HeldMessage[];
}

const DELAY_TEXT = 'Held for review; released by an administrator';

/** Without a server: into offline storage, stamped like the server would (XEP-0203). */
function offlineCopy(m: HeldMessage): string {
  const stamp = new Date(m.heldAt).toISOString();
  const delay = `<delay xmlns="urn:xmpp:delay" stamp="${stamp}">${DELAY_TEXT}</delay>`;
  return m.stanza.replace(/<\/message>\s*$/, `${delay}</message>`);
}

export const heldCommands: Command[] = [
  {
    name: ['held', 'list'],
    args: [],
    summary: 'List held messages: id, kind, held at, sender, recipient, threat, rule, reason.',
    options: {
      kind: { type: 'string', value: 'KIND', help: '"request" (strangers) or "review"' },
      recipient: { type: 'string', value: 'JID', help: 'only messages held for this account' },
    },
    async run(args, io) {
      const kind = args.values.kind;
      if (kind !== undefined && kind !== 'request' && kind !== 'review') {
        throw new UsageError('--kind must be "request" or "review"');
      }
      const owner = typeof args.values.recipient === 'string' ? args.values.recipient : undefined;
      const held = await withAdmin(args, io, (_ops, _config, storage) =>
        storage.held.list({
          ...(kind === undefined ? {} : { kind: kind as HeldKind }),
          ...(owner === undefined ? {} : { owner }),
        }),
      );
      for (const m of held) {
        const at = new Date(m.heldAt).toISOString().replace(/\.\d+Z$/, 'Z');
        printLine(
          io,
          [m.id, m.kind, at, m.sender, m.owner, m.threat ?? '-', m.rule, m.reason].join('\t'),
        );
      }
    },
  },
  {
    name: ['held', 'release'],
    args: ['IDS'],
    summary: 'Deliver held messages (ids from `held list`, comma-separated) to their recipients.',
    options: {},
    async run(args, io) {
      const ids = parseIds(args.positionals[0] ?? '');
      const n = await withAdmin(args, io, async (_ops, config, storage) => {
        const held = await found(storage, ids);
        try {
          await askServer(config.data_dir, { type: 'heldRelease', ids });
        } catch (err) {
          if (!(err instanceof NoServerError)) throw err;
          for (const m of held) {
            await storage.offline.push(m.owner, offlineCopy(m));
            await storage.held.remove([m.id]);
          }
        }
        return held.length;
      });
      printLine(io, `released ${n} message(s)`);
    },
  },
  {
    name: ['held', 'delete'],
    args: ['IDS'],
    summary: 'Delete held messages without delivering them.',
    options: {},
    async run(args, io) {
      const ids = parseIds(args.positionals[0] ?? '');
      const n = await withAdmin(args, io, async (_ops, _config, storage) => {
        await found(storage, ids);
        return storage.held.remove(ids);
      });
      printLine(io, `deleted ${n} message(s)`);
    },
  },
];
