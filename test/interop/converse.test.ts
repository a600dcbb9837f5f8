import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { loginArgs, slixmppSkipReason, startPyClient } from '../helpers/python-client.ts';
import { type RampartProcess, repoRoot, startRampart, withServerLog } from '../helpers/server.ts';

/**
 * Converse.js (the npm package, a web client no one here wrote) in Debian's headless
 * chromium, driven by playwright-core, logs in to Rampart over WebSocket (RFC 7395) and chats
 * with a slixmpp contact. The page comes from a test-only HTTPS server on another port, so
 * the WebSocket carries a real browser Origin (https://localhost:PORT), which Rampart's
 * default policy admits (the XMPP domain's host).
 */

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing; install the Debian package chromium`
  : slixmppSkipReason();
const PASSWORD = 'converse-secret-1';
/** Browser console, page errors and missing files, printed when the test fails. */
const browserLog: string[] = [];
const DIST = join(repoRoot, 'node_modules', 'converse.js', 'dist');
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
};

function pageHtml(wsUrl: string): string {
  const settings = {
    websocket_url: wsUrl,
    discover_connection_methods: false,
    jid: 'alice@localhost',
    password: PASSWORD,
    auto_login: true,
    auto_reconnect: false,
    view_mode: 'fullscreen',
    assets_path: '/dist/',
    i18n: 'en',
    play_sounds: false,
    show_desktop_notifications: false,
    show_controlbox_by_default: true,
    loglevel: 'debug',
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rampart test</title>
<link rel="stylesheet" href="/dist/converse.min.css">
<script type="module" src="/dist/converse.min.js"></script></head>
<body class="converse-fullscreen">
<script type="module">window.converse.initialize(${JSON.stringify(settings)});</script>
</body></html>`;
}

/** The test page and Converse's files (only below dist/), over HTTPS with Rampart's test cert. */
async function startPageServer(rampart: RampartProcess): Promise<{ server: Server; port: number }> {
  const tls = join(rampart.dataDir, 'tls');
  const wsUrl = `wss://localhost:${rampart.ports.https}/xmpp-websocket`;
  const server = createServer(
    {
      cert: readFileSync(join(tls, 'localhost.crt')),
      key: readFileSync(join(tls, 'localhost.key')),
    },
    (req, res) => {
      const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
      if (path === '/') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(pageHtml(wsUrl));
        return;
      }
      const file = normalize(join(DIST, path.replace(/^\/dist\//, '/')));
      if (!path.startsWith('/dist/') || !file.startsWith(DIST) || !existsSync(file)) {
        browserLog.push(`page server: 404 ${path}`);
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
      res.end(readFileSync(file));
    },
  );
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    }),
  );
  return { server, port };
}

describe('Converse.js in headless chromium over WebSocket', { skip }, () => {
  let rampart: RampartProcess;
  let pages: { server: Server; port: number };
  let browser: Browser;

  before(async () => {
    rampart = await startRampart();
    await rampart.addUser('alice', PASSWORD);
    await rampart.addUser('bob', PASSWORD);
    await rampart.addContacts('alice', 'bob');
    pages = await startPageServer(rampart);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--ignore-certificate-errors',
      ],
      timeout: 30_000,
    });
  });

  after(async () => {
    await browser?.close();
    pages?.server.close();
    pages?.server.closeAllConnections();
    await rampart?.stop();
  });

  test('logs in, shows a message from slixmpp, and its reply reaches slixmpp', async () => {
    const bob = startPyClient('bob', 'chat_peer.py', [
      ...loginArgs(rampart.ports.c2s, 'bob@localhost', PASSWORD),
      '--resource',
      'py',
      '--timeout',
      '60',
    ]);
    let page: Page | undefined;
    try {
      await withServerLog(rampart, async () => {
        await bob.waitFor((e) => e.event === 'ready', 'bob online', 20_000);
        page = await browser.newPage();
        page.on('console', (m) => browserLog.push(`${m.type()}: ${m.text()}`));
        page.on('pageerror', (e) => browserLog.push(`pageerror: ${e.message}`));
        await page.goto(`https://localhost:${pages.port}/`);

        // Converse logged in over the WebSocket: bob sees alice come online.
        await bob.waitFor(
          (e) =>
            e.event === 'presence' &&
            String(e.from).startsWith('alice@localhost/') &&
            (e.type === 'available' || e.type === ''),
          "alice's presence from Converse",
          30_000,
        );

        // Open the chat with bob from the roster (Converse lists him: the server keeps the roster).
        await page.locator('a.open-chat', { hasText: 'bob' }).first().click({ timeout: 30_000 });
        const textarea = page.locator('textarea.chat-textarea').first();
        await textarea.waitFor({ state: 'visible', timeout: 15_000 });

        const hello = `hello from slixmpp ${Date.now()}`;
        bob.command(`send alice@localhost ${hello}`);
        await page.getByText(hello).first().waitFor({ state: 'visible', timeout: 30_000 });

        const reply = `reply from converse ${Date.now()}`;
        await textarea.fill(reply);
        await textarea.press('Enter');
        const got = await bob.waitFor(
          (e) => e.event === 'message' && e.body === reply,
          'the reply typed in Converse',
          20_000,
        );
        assert.match(String(got.from), /^alice@localhost\//);
        assert.equal(got.type, 'chat');
        await page.getByText(reply).first().waitFor({ state: 'visible', timeout: 10_000 });
      });
    } catch (err) {
      await page?.screenshot({ path: '/tmp/rampart-converse-failure.png' }).catch(() => {});
      process.stderr.write(
        `\n--- browser console ---\n${browserLog.slice(-80).join('\n')}\n--- slixmpp ---\n${bob.describe()}\n`,
      );
      throw err;
    } finally {
      await page?.close().catch(() => {});
      bob.command('quit');
      await bob.finish(10_000);
    }
  });
});
