// `rampart start`: runs the server in the foreground until SIGTERM or SIGINT.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { CliError, type Command } from './command.ts';
import { serverConfigOptions, serverFlagsOf } from './config-options.ts';
import type { CliIo } from './io.ts';
import { welcomeText } from './welcome.ts';

interface RunningServer {
  ports: { c2s: number; c2sTls: number; https: number };
  close(reason?: string): Promise<void>;
  reloadPolicy(): void;
}

type StartServer = (
  config: Config,
  options: { reloadConfig: () => Config },
) => Promise<RunningServer>;

/**
 * Resolves on the first SIGTERM/SIGINT; a second one forces an exit. SIGHUP calls `hangup`
 * (the policy reload) once the server runs, and never kills the server.
 */
function shutdownSignal(io: CliIo): {
  received: Promise<NodeJS.Signals>;
  hangup: { handler: () => void };
  dispose(): void;
} {
  let resolveSignal: (signal: NodeJS.Signals) => void = () => {};
  const received = new Promise<NodeJS.Signals>((resolve) => {
    resolveSignal = resolve;
  });
  let count = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    count += 1;
    if (count === 1) resolveSignal(signal);
    else {
      io.stderr.write(`rampart: ${signal} again during shutdown; exiting now\n`);
      process.exit(1);
    }
  };
  const hangup = { handler: () => {} };
  const onHangup = (): void => hangup.handler();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onHangup);
  return {
    received,
    hangup,
    dispose() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.off('SIGHUP', onHangup);
    },
  };
}

function writePidFile(path: string): void {
  try {
    writeFileSync(path, `${process.pid}\n`);
  } catch (err) {
    throw new CliError(`cannot write pid file ${path}: ${(err as Error).message}`);
  }
}

// Only our own pid file is removed: another instance may have replaced it.
function removePidFile(path: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
  } catch {}
}

export const startCommand: Command = {
  name: ['start'],
  args: [],
  summary: 'Run the server in the foreground until SIGTERM or SIGINT.',
  details: 'On SIGTERM or SIGINT the server closes every stream with system-shutdown and exits 0.',
  options: serverConfigOptions(),
  async run(args, io) {
    const config = loadConfig({ flags: serverFlagsOf(args), env: io.env });
    const signal = shutdownSignal(io);
    try {
      const { startServer } = (await import('../main.ts')) as { startServer: StartServer };
      let server: RunningServer;
      const reloadConfig = () => loadConfig({ flags: serverFlagsOf(args), env: io.env });
      try {
        server = await startServer(config, { reloadConfig });
      } catch (err) {
        throw new CliError(`cannot start: ${(err as Error).message}`);
      }
      try {
        if (config.pid_file !== undefined) writePidFile(config.pid_file);
        io.stdout.write(welcomeText(config, server.ports));
        const running = server;
        signal.hangup.handler = () => {
          try {
            running.reloadPolicy();
            io.stderr.write('rampart: SIGHUP: threat policy reloaded\n');
          } catch (err) {
            io.stderr.write(`rampart: SIGHUP: ${(err as Error).message}\n`);
          }
        };
        await signal.received;
      } finally {
        try {
          await server.close('system-shutdown');
        } finally {
          if (config.pid_file !== undefined) removePidFile(config.pid_file);
        }
      }
    } finally {
      signal.dispose();
    }
  },
};
