import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type CliRun, cleanEnv, rampart } from '../helpers/cli.ts';

// The real `rampart` command, as outside scripts drive it: exit codes, stdout, and exactly
// one `rampart: <reason>` line on stderr when something fails.

/** Asserts a failure: the exit status and the single stderr line. */
function assertFails(run: CliRun, code: number, message: string | RegExp): void {
  assert.equal(run.code, code, `exit code; stderr: ${run.stderr}`);
  assert.ok(run.stderr.endsWith('\n'), `stderr ends with a newline: ${JSON.stringify(run.stderr)}`);
  const lines = run.stderr.slice(0, -1).split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(run.stderr)}`);
  if (typeof message === 'string') assert.equal(lines[0], `rampart: ${message}`);
  else assert.match(lines[0] ?? '', message);
}

function assertOk(run: CliRun, stdout?: string): void {
  assert.equal(run.code, 0, `exit code; stderr: ${run.stderr}`);
  assert.equal(run.stderr, '');
  if (stdout !== undefined) assert.equal(run.stdout, stdout);
}

/** A throw-away data dir and config file (cheap PBKDF2) per group of tests. */
function workspace(extraToml = ''): { dir: string; args: string[]; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-cli-'));
  const config = join(dir, 'rampart.toml');
  writeFileSync(config, `${extraToml}\n[auth]\nscram_iterations = 4096\n`);
  return {
    dir,
    args: ['--config', config, '--data-dir', join(dir, 'data')],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe('rampart CLI', { concurrency: 3 }, () => {
  describe('usage', () => {
    it('prints help for the command and for each command', async () => {
      const top = await rampart(['--help']);
      assertOk(top);
      assert.match(top.stdout, /^Usage: rampart <command>/);
      for (const name of ['start', 'check-config', 'user import FILE', 'roster add JID CONTACT']) {
        assert.ok(top.stdout.includes(name), name);
      }
      const add = await rampart(['user', 'add', '--help']);
      assertOk(add);
      assert.match(add.stdout, /^Usage: rampart user add JID/);
      assert.ok(add.stdout.includes('--password-stdin'));
    });

    it('refuses bad usage with exit status 2', async () => {
      assertFails(await rampart([]), 2, 'missing command (see rampart --help)');
      assertFails(await rampart(['frob']), 2, 'unknown command "frob" (see rampart --help)');
      assertFails(await rampart(['user', 'add']), 2, 'missing JID (see rampart user add --help)');
      assertFails(
        await rampart(['user', 'list', '--bogus']),
        2,
        'unknown option --bogus (see rampart user list --help)',
      );
      assertFails(
        await rampart(['user', 'add', 'a@localhost']),
        2,
        /^rampart: user add needs --password-stdin/,
      );
    });
  });

  describe('user', () => {
    const ws = workspace();
    after(() => ws.cleanup());

    it('adds, lists, changes and removes accounts', async () => {
      const add = (jid: string, password: string) =>
        rampart(['user', 'add', jid, '--password-stdin', ...ws.args], { stdin: `${password}\n` });
      assertOk(await add('Alice@localhost', 'correct horse'), 'added alice@localhost\n');
      assertFails(await add('alice@localhost', 'correct horse'), 1, 'user exists: alice@localhost');
      assertFails(
        await add('bob@example.com', 'correct horse'),
        1,
        'unknown domain "example.com" (this server serves "localhost")',
      );
      assertFails(
        await add('bob@localhost', 'short'),
        1,
        'password fails policy: at least 8 characters',
      );
      assertOk(
        await rampart(['user', 'passwd', 'alice@localhost', '--password-stdin', ...ws.args], {
          stdin: 'battery staple\n',
        }),
        'changed password of alice@localhost\n',
      );
      assertFails(
        await rampart(['user', 'passwd', 'nobody@localhost', '--password-stdin', ...ws.args], {
          stdin: 'battery staple\n',
        }),
        1,
        'no such user: nobody@localhost',
      );
      assertOk(await rampart(['user', 'list', ...ws.args]), 'alice@localhost\n');
      assertOk(
        await rampart(['user', 'remove', 'alice@localhost', ...ws.args]),
        'removed alice@localhost\n',
      );
      assertFails(
        await rampart(['user', 'remove', 'alice@localhost', ...ws.args]),
        1,
        'no such user: alice@localhost',
      );
      assertOk(await rampart(['user', 'list', ...ws.args]), '');
    });
  });

  describe('user import', () => {
    const ws = workspace();
    after(() => ws.cleanup());

    it('imports a CSV file, then skips accounts that exist', async () => {
      const lines = ['jid,password', '# generated', ''];
      for (let i = 0; i < 300; i++) lines.push(`user${i}@localhost,pass,word,${i}`);
      const csv = join(ws.dir, 'users.csv');
      writeFileSync(csv, `${lines.join('\n')}\n`);
      const first = await rampart(['user', 'import', csv, ...ws.args]);
      assertOk(first, 'created 300, skipped 0 existing\n');

      const again = await rampart(['user', 'import', '-', ...ws.args], {
        stdin: 'user0@localhost,pass,word,0\nnew@localhost,a new password\n',
      });
      assertOk(again, 'created 1, skipped 1 existing\n');

      const list = await rampart(['user', 'list', '--domain', 'localhost', ...ws.args]);
      assertOk(list);
      assert.equal(list.stdout.trim().split('\n').length, 301);
    });

    it('stops on a bad line without importing anything', async () => {
      const run = await rampart(['user', 'import', '-', ...ws.args], {
        stdin: 'ok1@localhost,password1\n\nbroken@localhost\nok2@localhost,password2\n',
      });
      assertFails(run, 1, 'bad CSV line 3: missing password');
      assertFails(
        await rampart(['user', 'import', join(ws.dir, 'none.csv'), ...ws.args]),
        1,
        /cannot read .*none\.csv: no such file$/,
      );
    });
  });

  describe('roster', () => {
    const ws = workspace();
    after(() => ws.cleanup());

    it('adds, lists, imports and removes mutual contacts', async () => {
      assertOk(
        await rampart(['user', 'import', '-', ...ws.args], {
          stdin: 'a@localhost,password-a\nb@localhost,password-b\nc@localhost,password-c\n',
        }),
      );
      assertOk(
        await rampart(['roster', 'add', 'a@localhost', 'b@localhost', ...ws.args]),
        'added b@localhost to a@localhost and a@localhost to b@localhost\n',
      );
      assertOk(
        await rampart(['roster', 'list', 'b@localhost', ...ws.args]),
        'a@localhost\tboth\t\t\n',
      );
      assertFails(
        await rampart(['roster', 'add', 'a@localhost', 'zed@localhost', ...ws.args]),
        1,
        'no such user: zed@localhost',
      );
      assertOk(
        await rampart(['roster', 'import', '-', ...ws.args], {
          stdin: '# pairs\na@localhost,c@localhost\nb@localhost, c@localhost\n',
        }),
        'added 2 contact pairs\n',
      );
      assertOk(
        await rampart(['roster', 'list', 'c@localhost', ...ws.args]),
        'a@localhost\tboth\t\t\nb@localhost\tboth\t\t\n',
      );
      assertOk(await rampart(['roster', 'remove', 'c@localhost', 'a@localhost', ...ws.args]));
      assertOk(
        await rampart(['roster', 'list', 'a@localhost', ...ws.args]),
        'b@localhost\tboth\t\t\n',
      );
    });
  });

  describe('configuration', () => {
    const ws = workspace('domain = "Example.org"\n[limits]\nmax_depth = 20\n');
    after(() => ws.cleanup());

    it('check-config prints the effective configuration', async () => {
      const run = await rampart(['check-config', ...ws.args, '--c2s-port', '15222']);
      assertOk(run);
      assert.match(run.stdout, /^# effective configuration \(config file .*rampart\.toml\)\n/);
      assert.ok(run.stdout.includes('domain = "example.org"'));
      assert.ok(run.stdout.includes('c2s_port = 15222'));
      assert.ok(run.stdout.includes('max_depth = 20'));
    });

    it('reports config errors in one line, naming key and source', async () => {
      const bad = join(ws.dir, 'bad.toml');
      writeFileSync(bad, '[limits]\nmax_stanza_bytes = "big"\n');
      assertFails(
        await rampart(['check-config', '--config', bad]),
        1,
        `config error: limits.max_stanza_bytes (in ${bad}, line 2): must be an integer between 1 and 16777216, got "big"`,
      );
      assertFails(
        await rampart(['user', 'list', ...ws.args], {
          env: cleanEnv({ RAMPART_LIMTS__MAX_DEPTH: '3' }),
        }),
        1,
        'unknown environment variable RAMPART_LIMTS__MAX_DEPTH; did you mean RAMPART_LIMITS__MAX_DEPTH?',
      );
      assertFails(
        await rampart(['start', ...ws.args, '--cert', 'c.pem']),
        1,
        'config error: --cert given without --key',
      );
    });

    it('takes the config file from RAMPART_CONFIG', async () => {
      const run = await rampart(['check-config'], {
        env: cleanEnv({ RAMPART_CONFIG: ws.args[1], RAMPART_DATA_DIR: join(ws.dir, 'x') }),
      });
      assertOk(run);
      assert.ok(run.stdout.includes('domain = "example.org"'));
      assert.ok(run.stdout.includes(`data_dir = "${join(ws.dir, 'x')}"`));
    });
  });
});
