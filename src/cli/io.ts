import { readFile } from 'node:fs/promises';
import { CliError } from './command.ts';

/** The process streams a command uses; passed in so commands never reach for globals. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

export function printLine(io: CliIo, line: string): void {
  io.stdout.write(`${line}\n`);
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The whole of FILE, or of standard input when FILE is "-". */
export async function readInput(path: string, io: CliIo): Promise<string> {
  if (path === '-') return readAll(io.stdin);
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new CliError(`cannot read ${path}: ${why ?? (err as Error).message}`);
  }
}

/** A password given on standard input: one line, its line ending removed. */
export async function readPasswordFromStdin(io: CliIo): Promise<string> {
  const text = (await readAll(io.stdin)).replace(/\r?\n$/, '');
  if (text === '') throw new CliError('no password on standard input');
  if (/[\r\n]/.test(text)) throw new CliError('the password on standard input must be one line');
  return text;
}
