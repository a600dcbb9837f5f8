// Entry point of the `rampart` command (bin/rampart.mjs loads this file).
import { processIo } from './io.ts';
import { runCli } from './run.ts';

const code = await runCli(process.argv.slice(2), processIo());
// Exit explicitly: a command must not linger on a handle someone forgot to close.
// Writes to pipes and files are synchronous on POSIX, so nothing printed is lost.
process.stdout.write('', () => process.exit(code));
