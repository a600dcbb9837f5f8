import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, didYouMean } from '../../src/config/errors.ts';
import { findTomlLine, loadConfig } from '../../src/config/load.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rampart-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes rampart.toml (in a subdirectory so relative paths can be told apart from cwd). */
function configFile(text: string, name = 'rampart.toml'): string {
  const sub = join(dir, 'etc');
  mkdirSync(sub, { recursive: true });
  const path = join(sub, name);
  writeFileSync(path, text);
  return path;
}

function load(
  flags: Record<string, string | undefined> = {},
  env: NodeJS.ProcessEnv = {},
): ReturnType<typeof loadConfig> {
  return loadConfig({ flags, env, cwd: dir });
}

function loadError(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv = {}): string {
  try {
    load(flags, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig sources', () => {
  it('uses schema defaults, with data_dir relative to cwd', () => {
    const config = load();
    assert.equal(config.domain, 'localhost');
    assert.equal(config.c2s_port, 5222);
    assert.equal(config.limits.max_stanza_bytes, 256 * 1024);
    assert.equal(config.data_dir, join(dir, 'data'));
    assert.equal(config.pid_file, undefined);
  });

  it('reads the file named by --config, resolving its paths against the file directory', () => {
    const file = configFile(
      [
        'domain = "Example.COM"',
        'data_dir = "state"',
        'pid_file = "/run/rampart.pid"',
        'c2s_port = 15222',
        '[tls]',
        'cert = "certs/fullchain.pem"',
        'key = "certs/privkey.pem"',
        '[auth]',
        'mechanisms = ["SCRAM-SHA-256"]',
        'allow_plain = true',
        '[limits]',
        'max_stanza_bytes = 1000',
      ].join('\n'),
    );
    const config = load({ config: file });
    assert.equal(config.domain, 'example.com'); // prepared
    assert.equal(config.data_dir, join(dir, 'etc', 'state'));
    assert.equal(config.pid_file, '/run/rampart.pid');
    assert.equal(config.c2s_port, 15222);
    assert.equal(config.tls.cert, join(dir, 'etc', 'certs', 'fullchain.pem'));
    assert.equal(config.tls.key, join(dir, 'etc', 'certs', 'privkey.pem'));
    assert.deepEqual(config.auth.mechanisms, ['SCRAM-SHA-256']);
    assert.equal(config.auth.allow_plain, true);
    assert.equal(config.limits.max_stanza_bytes, 1000);
    assert.equal(config.limits.max_depth, 32); // untouched keys keep defaults
  });

  it('finds the file through RAMPART_CONFIG, and --config wins over it', () => {
    const a = configFile('domain = "a.example"', 'a.toml');
    const b = configFile('domain = "b.example"', 'b.toml');
    assert.equal(load({}, { RAMPART_CONFIG: a }).domain, 'a.example');
    assert.equal(load({ config: b }, { RAMPART_CONFIG: a }).domain, 'b.example');
  });

  it('coerces environment variables by type and lets them override the file', () => {
    const file = configFile('c2s_port = 1000\n[limits]\nmax_depth = 5\n');
    const config = load(
      { config: file },
      {
        RAMPART_C2S_PORT: '2000',
        RAMPART_DATA_DIR: 'relative/data',
        RAMPART_LIMITS__MAX_STANZA_BYTES: '4096',
        RAMPART_AUTH__ALLOW_PLAIN: 'yes',
        RAMPART_AUTH__MECHANISMS: 'SCRAM-SHA-1, PLAIN',
        RAMPART_TLS__CERT: 'c.pem',
        RAMPART_TLS__KEY: '/abs/k.pem',
        RAMPART_LOG_LEVEL: 'debug',
        RAMPART_PID_FILE: '', // empty counts as unset
        UNRELATED: 'x',
      },
    );
    assert.equal(config.c2s_port, 2000);
    assert.equal(config.limits.max_depth, 5);
    assert.equal(config.limits.max_stanza_bytes, 4096);
    assert.equal(config.auth.allow_plain, true);
    assert.deepEqual(config.auth.mechanisms, ['SCRAM-SHA-1', 'PLAIN']);
    assert.equal(config.data_dir, join(dir, 'relative', 'data'));
    assert.equal(config.tls.cert, join(dir, 'c.pem'));
    assert.equal(config.tls.key, '/abs/k.pem');
    assert.equal(config.log_level, 'debug');
    assert.equal(config.pid_file, undefined);
  });

  it('reads booleans in the usual spellings', () => {
    for (const [text, value] of [
      ['true', true],
      ['FALSE', false],
      ['1', true],
      ['0', false],
      ['on', true],
      ['off', false],
    ] as const) {
      assert.equal(load({}, { RAMPART_AUTH__ALLOW_PLAIN: text }).auth.allow_plain, value);
    }
  });

  it('lets flags override environment and file', () => {
    const file = configFile('domain = "file.example"\nhttps_port = 1\n');
    const config = load(
      {
        config: file,
        domain: 'flag.example',
        'data-dir': 'd',
        bind: '127.0.0.1',
        'c2s-port': '3000',
        'c2s-tls-port': '3001',
        'https-port': '3002',
        cert: 'cert.pem',
        key: 'key.pem',
        'pid-file': 'r.pid',
        'log-level': 'warn',
        'password-stdin': 'ignored', // not a config flag
      },
      { RAMPART_DOMAIN: 'env.example', RAMPART_C2S_PORT: '2000' },
    );
    assert.equal(config.domain, 'flag.example');
    assert.equal(config.data_dir, join(dir, 'd'));
    assert.equal(config.bind, '127.0.0.1');
    assert.equal(config.c2s_port, 3000);
    assert.equal(config.c2s_tls_port, 3001);
    assert.equal(config.https_port, 3002);
    assert.equal(config.tls.cert, join(dir, 'cert.pem'));
    assert.equal(config.tls.key, join(dir, 'key.pem'));
    assert.equal(config.pid_file, join(dir, 'r.pid'));
    assert.equal(config.log_level, 'warn');
  });
});

describe('loadConfig errors', () => {
  it('names key, file, line, what is allowed and the bad value', () => {
    const file = configFile('domain = "x.example"\n\n[limits]\nmax_stanza_bytes = "big"\n');
    assert.equal(
      loadError({ config: file }),
      `config error: limits.max_stanza_bytes (in ${file}, line 4): must be an integer between 1 and 16777216, got "big"`,
    );
  });

  it('reports out-of-range numbers and bad enums from the file', () => {
    const file = configFile('c2s_port = 70000\n');
    assert.match(
      loadError({ config: file }),
      /^config error: c2s_port \(in .*, line 1\): must be an integer between 0 and 65535, got 70000$/,
    );
    const enumFile = configFile('[tls]\nmin_version = "SSLv3"\n');
    assert.match(
      loadError({ config: enumFile }),
      /tls\.min_version \(in .*, line 2\): must be one of "TLSv1\.2", "TLSv1\.3", got "SSLv3"/,
    );
    const listFile = configFile('[auth]\nmechanisms = []\n');
    assert.match(
      loadError({ config: listFile }),
      /auth\.mechanisms .*must be a non-empty list of items from/,
    );
  });

  it('suggests the intended name for unknown keys', () => {
    assert.equal(
      loadError({ config: configFile('[limts]\nmax_depth = 3\n') }),
      `unknown key "limts" in ${join(dir, 'etc', 'rampart.toml')}, line 1; did you mean "limits"?`,
    );
    assert.match(
      loadError({ config: configFile('[limits]\nmax_stanza = 3\n') }),
      /unknown key "limits\.max_stanza" in .*, line 2; did you mean "limits\.max_stanza_bytes"\?/,
    );
    assert.match(
      loadError({ config: configFile('max_stanza_bytes = 3\n') }),
      /unknown key "max_stanza_bytes" .*did you mean "limits\.max_stanza_bytes"\?/,
    );
    assert.match(
      loadError({ config: configFile('zzzzzzzz = 3\n') }),
      /^unknown key "zzzzzzzz" in .*, line 1$/,
    );
  });

  it('refuses a scalar where a table belongs', () => {
    assert.match(
      loadError({ config: configFile('limits = 5\n') }),
      /limits \(in .*, line 1\): must be a table \(\[limits\]\), got 5/,
    );
  });

  it('reports unreadable and malformed files', () => {
    assert.equal(
      loadError({ config: 'missing.toml' }),
      'config error: cannot read config file missing.toml: no such file',
    );
    assert.match(
      loadError({ config: configFile('domain = "a"\nport = = 3\n') }),
      /^config error: invalid TOML in .*, line 2: /,
    );
  });

  it('names the environment variable', () => {
    assert.equal(
      loadError({}, { RAMPART_C2S_PORT: 'many' }),
      'config error: c2s_port (from environment variable RAMPART_C2S_PORT): must be an integer between 0 and 65535, got "many"',
    );
    assert.match(
      loadError({}, { RAMPART_AUTH__ALLOW_PLAIN: 'maybe' }),
      /auth\.allow_plain \(from environment variable RAMPART_AUTH__ALLOW_PLAIN\): must be true or false, got "maybe"/,
    );
    assert.match(
      loadError({}, { RAMPART_AUTH__MECHANISMS: 'SCRAM-SHA-1,MD5' }),
      /got \["SCRAM-SHA-1","MD5"\]/,
    );
  });

  it('refuses unknown RAMPART_* variables that look like config', () => {
    assert.equal(
      loadError({}, { RAMPART_LIMTS__MAX_DEPTH: '3' }),
      'unknown environment variable RAMPART_LIMTS__MAX_DEPTH; did you mean RAMPART_LIMITS__MAX_DEPTH?',
    );
    assert.match(loadError({}, { RAMPART_LOGLEVEL: 'x' }), /did you mean RAMPART_LOG_LEVEL\?/);
    assert.equal(
      loadError({}, { RAMPART_FOO__BAR: '1' }),
      'unknown environment variable RAMPART_FOO__BAR',
    );
    assert.match(loadError({}, { RAMPART_LIMITS: '1' }), /RAMPART_LIMITS names a table/);
    // RAMPART_CONFIG is the file, and names unlike any key are left alone.
    assert.doesNotThrow(() => load({}, { RAMPART_CONFIG: '', RAMPART_BUILD_SHA: 'abc' }));
  });

  it('names the flag', () => {
    assert.equal(
      loadError({ 'c2s-port': 'x' }),
      'config error: c2s_port (from flag --c2s-port): must be an integer between 0 and 65535, got "x"',
    );
    assert.match(
      loadError({ 'log-level': 'loud' }),
      /log_level \(from flag --log-level\): must be one of/,
    );
    assert.match(
      loadError({ domain: 'not a domain' }),
      /domain \(from flag --domain\): must be a valid domain name/,
    );
  });

  it('requires --cert and --key together', () => {
    assert.equal(loadError({ cert: 'c.pem' }), 'config error: --cert given without --key');
    assert.equal(loadError({ key: 'k.pem' }), 'config error: --key given without --cert');
    assert.match(
      loadError({ config: configFile('[tls]\ncert = "c.pem"\n') }),
      /tls\.cert \(in .*, line 2\) is set but tls\.key is not/,
    );
  });

  it('checks rules that span keys', () => {
    assert.match(
      loadError(
        {},
        { RAMPART_PASSWORD_POLICY__MIN_LENGTH: '100', RAMPART_PASSWORD_POLICY__MAX_LENGTH: '50' },
      ),
      /password_policy\.min_length .*must not exceed password_policy\.max_length \(50\), got 100/,
    );
  });
});

describe('config helpers', () => {
  it('finds lines of table keys, dotted keys and inline tables', () => {
    const text =
      '# c\ndomain = "x"\n[limits]\nmax_depth = 3\n[auth]\n"allow_plain" = true\ntls.cert = "a"\nx = { y = 1 }\n';
    assert.equal(findTomlLine(text, 'domain'), 2);
    assert.equal(findTomlLine(text, 'limits'), 3);
    assert.equal(findTomlLine(text, 'limits.max_depth'), 4);
    assert.equal(findTomlLine(text, 'auth.allow_plain'), 6);
    assert.equal(findTomlLine(text, 'auth.tls.cert'), 7);
    assert.equal(findTomlLine(text, 'auth.x.y'), 8);
    assert.equal(findTomlLine(text, 'nothing'), undefined);
  });

  it('suggests close names only', () => {
    assert.equal(didYouMean('limts', ['limits', 'auth']), 'limits');
    assert.equal(didYouMean('domian', ['domain', 'bind']), 'domain');
    assert.equal(didYouMean('qqqqqq', ['domain', 'bind']), undefined);
  });
});
