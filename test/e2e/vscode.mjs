// Drives a real VS Code (code-server 4.100.3 from .e2e/, see scripts/e2e-setup.sh) in headless Debian chromium
// through playwright-core. Everything it writes (HOME, XDG dirs, user data, extensions) lives in one temp folder.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const E2E = path.join(ROOT, '.e2e');
const require = createRequire(path.join(E2E, 'package.json'));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function get(url) {
  return new Promise((res, rej) => http.get(url, (r) => (r.resume(), res(r.statusCode))).on('error', rej));
}

/** Starts code-server with the .vsix installed and a browser on the workspace; `close()` tears both down. */
export async function launch({ vsix, workspace, runDir, log = () => {} }) {
  const codeServer = path.join(E2E, 'node_modules', '.bin', 'code-server');
  if (!fs.existsSync(codeServer)) throw new Error('code-server is not installed: run `npm run e2e:setup` first');
  const { chromium } = require('playwright-core');
  for (const d of ['ext', 'data/User', 'xdg/config', 'xdg/data', 'xdg/cache', 'chrome', 'home', 'tmp'])
    fs.mkdirSync(path.join(runDir, d), { recursive: true });
  const port = await freePort();
  fs.writeFileSync(path.join(runDir, 'config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  fs.writeFileSync(
    path.join(runDir, 'data/User/settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'extensions.ignoreRecommendations': true,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'security.workspace.trust.enabled': false,
      'chat.disableAIFeatures': true,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'window.restoreWindows': 'none',
      'git.enabled': false,
    }),
  );
  const env = {
    ...process.env,
    HOME: path.join(runDir, 'home'),
    TMPDIR: path.join(runDir, 'tmp'),
    XDG_RUNTIME_DIR: path.join(runDir, 'tmp'),
    XDG_CONFIG_HOME: path.join(runDir, 'xdg/config'),
    XDG_DATA_HOME: path.join(runDir, 'xdg/data'),
    XDG_CACHE_HOME: path.join(runDir, 'xdg/cache'),
  };
  const common = [
    '--config',
    path.join(runDir, 'config.yaml'),
    '--user-data-dir',
    path.join(runDir, 'data'),
    '--extensions-dir',
    path.join(runDir, 'ext'),
  ];
  execFileSync(codeServer, [...common, '--install-extension', vsix], { env, stdio: 'pipe' });
  log('vsix installed');
  const cs = spawn(
    codeServer,
    [
      ...common,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      workspace,
    ],
    {
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const csLog = fs.createWriteStream(path.join(runDir, 'code-server.log'));
  cs.stdout.pipe(csLog);
  cs.stderr.pipe(csLog);
  const stopServer = async () => {
    try {
      process.kill(-cs.pid, 'SIGTERM');
    } catch {}
    await new Promise((r) => (cs.exitCode !== null || cs.signalCode !== null ? r() : cs.once('exit', r)));
    for (let i = 0; i < 50; i++) {
      let left = '';
      try {
        left = execFileSync('pgrep', ['-g', String(cs.pid)])
          .toString()
          .trim();
      } catch {}
      if (!left) return;
      await sleep(100);
    }
    try {
      process.kill(-cs.pid, 'SIGKILL');
    } catch {}
  };
  let context;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await get(`http://127.0.0.1:${port}/healthz`)) === 200) break;
      } catch {}
      if (i > 600) throw new Error('code-server did not come up within 60 s; see code-server.log');
      await sleep(100);
    }
    log('code-server listening');
    context = await chromium.launchPersistentContext(path.join(runDir, 'chrome'), {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1400, height: 900 },
      env,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30000);
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor();
    log('workbench loaded');
    return {
      page,
      errors,
      env,
      // Where each side runs, for the journey that checks it: code-server's own process (the server side, whose
      // extension host starts the trainer), the folder extensions are installed in, the browser's profile folder.
      serverPid: cs.pid,
      extensionsDir: path.join(runDir, 'ext'),
      browserProfile: path.join(runDir, 'chrome'),
      async close() {
        // Teardown: a browser that already crashed or closed has nothing left to close.
        await context.close().catch(() => {});
        await stopServer();
      },
    };
  } catch (e) {
    // Start-up already failed with `e`; a failing close must not replace it.
    await context?.close().catch(() => {});
    await stopServer();
    throw e;
  }
}

/** Runs a command from the palette by its label; retries because the quick input closes on focus changes. */
export async function runCommand(page, label) {
  const quick = page.locator('.quick-input-widget');
  const input = quick.locator('.quick-input-box input').first();
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      if (!(await quick.isVisible())) await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 5000 });
      await input.fill('>' + label);
      await row.waitFor({ timeout: 10000 });
      await row.click();
      return;
    } catch (e) {
      if (attempt === 5) throw new Error(`could not run command "${label}": ${String(e).split('\n')[0]}`);
      // Closes a half-open palette before the next attempt; with none open there is nothing to close.
      await page.keyboard.press('Escape').catch(() => {});
      await sleep(300);
    }
  }
}

/** Answers the current quick pick: types `filter`, then clicks the row whose text contains `rowText`. */
export async function pick(page, rowText, filter = rowText, { exact = false, placeholder } = {}) {
  const quick = page.locator('.quick-input-widget');
  // The widget is reused from one step to the next: the placeholder tells which step is showing.
  const input = quick
    .locator(placeholder ? `.quick-input-box input[placeholder^="${placeholder}"]` : '.quick-input-box input')
    .first();
  // exact: the row's accessible name is exactly `rowText` (a label without description).
  const row = exact
    ? quick.getByRole('option', { name: rowText, exact: true }).first()
    : page.locator('.quick-input-list .monaco-list-row', { hasText: rowText }).first();
  for (let attempt = 1; attempt <= 4; attempt++) {
    try {
      await input.waitFor({ state: 'visible', timeout: 15000 });
      await input.fill(filter);
      await row.waitFor({ timeout: 10000 });
      await sleep(250); // the extension may still be updating the items for what was typed
      await row.click();
      return;
    } catch (e) {
      if (attempt === 4) throw new Error(`could not pick "${rowText}": ${String(e).split('\n')[0]}`);
      await sleep(500);
    }
  }
}

/** The quick pick's title bar, e.g. "Train from scratch 2/6"; waits until it shows `text`. */
export async function waitForQuickTitle(page, text) {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: text }).first().waitFor({ timeout: 15000 });
}

/** Clicks a button of a notification toast that contains `text`. */
export async function clickNotificationButton(page, text, button) {
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  await toast.waitFor({ timeout: 30000 });
  await toast.locator('.monaco-button', { hasText: button }).first().click();
}

export async function clearNotifications(page) {
  // Tidying between journeys, not a check: a journey that needs a notification gone waits for that itself.
  await runCommand(page, 'Notifications: Clear All Notifications').catch(() => {});
}

/** The rows of the Runs view. */
export function runsRows(page) {
  return page.locator(
    '[id="workbench.view.extension.finetune"] .monaco-list-row, .pane-body[aria-label^="Runs"] .monaco-list-row',
  );
}

export async function shot(page, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Opens a workspace file through Quick Open, as a person does. */
export async function openFile(page, name) {
  const quick = page.locator('.quick-input-widget');
  const input = quick.locator('.quick-input-box input').first();
  const tab = page.locator('.tab.active', { hasText: name });
  // Retried like runCommand: with a webview focused, Ctrl+P or the typed text can go astray.
  for (let attempt = 1; attempt <= 4; attempt++) {
    try {
      if (!(await quick.isVisible())) await page.keyboard.press('Control+P');
      await input.waitFor({ state: 'visible', timeout: 5000 });
      await input.fill(name);
      await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click({ timeout: 10000 });
      await tab.waitFor({ timeout: 10000 });
      return;
    } catch (e) {
      if (attempt === 4) throw new Error(`could not open ${name}: ${String(e).split('\n')[0]}`);
      // Closes Quick Open, if it is open, before the next attempt.
      await page.keyboard.press('Escape').catch(() => {});
      // Takes the focus back from a webview, if one holds it; the retry checks whether the file opened.
      await page
        .locator('.monaco-workbench .part.editor')
        .first()
        .click({ position: { x: 5, y: 5 } })
        .catch(() => {});
      await sleep(300);
    }
  }
}

/**
 * A tiny from-scratch text-classification config on the workspace's `tokenizer/`, as the journeys train it:
 * `data` and `training` are the keys of those sections, in order (values written as given).
 */
export function tinyConfig(data, training) {
  const block = (o) =>
    Object.entries(o)
      .map(([k, v]) => `  ${k}: ${v}`)
      .join('\n');
  return `mode: from-scratch
task: text-classification
model:
  tokenizer: ./tokenizer
  architecture:
    hidden_size: 32
    num_hidden_layers: 2
    num_attention_heads: 2
    intermediate_size: 64
    max_position_embeddings: 32
data:
${block({ ...data, max_length: 32 })}
training:
${block(training)}
`;
}

/** Builds the production bundles and packs them into a .vsix at `out`, as `npm run package` does. */
export function buildVsix(out) {
  execFileSync('node', ['esbuild.mjs', '--production'], { cwd: ROOT, stdio: 'pipe' });
  execFileSync(
    path.join(ROOT, 'node_modules', '.bin', 'vsce'),
    ['package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', out],
    { cwd: ROOT, stdio: 'pipe' },
  );
}

/**
 * Declares a journey (`node:test`'s `test`) whose failure explains itself in the CI log, where screenshots can't be
 * seen: a screenshot, what the quick input and the notifications show, and the tail of the extension's own log.
 * `fn` gets the test's context, to skip a check with its reason (`t.skip('why')`).
 */
export function journeyTest(test, name, fn, { page, artifacts, tmp, timeout = 240000 }) {
  test(name, { timeout }, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const safe = name.replace(/[^\w]+/g, '-').slice(0, 60);
      // Evidence for the failure `e`: failing to gather it must not replace `e`.
      await shot(page(), artifacts, `FAIL-${safe}`).catch(() => {});
      console.log(
        (await screenState(page()).catch((why) => [`(screen unreadable: ${why}`])).map((l) => `# ${l}`).join('\n'),
      );
      console.log(
        extensionLogTail(tmp)
          .map((l) => `# | ${l}`)
          .join('\n'),
      );
      throw e;
    }
  });
}

/** What a person would see of the workbench's transient UI: the quick input's title and rows, the notifications. */
async function screenState(page) {
  const texts = (sel) => page.locator(sel).allInnerTexts();
  const title = await texts('.quick-input-widget:visible .quick-input-title');
  const rows = await texts('.quick-input-widget:visible .quick-input-list .monaco-list-row');
  const toasts = await texts('.notifications-toasts .notification-toast');
  const one = (t) => t.replace(/\s+/g, ' ').trim().slice(0, 300);
  return [
    `quick input: ${title.length || rows.length ? `"${title.map(one).join(' ')}" with ${rows.length} rows` : 'closed'}`,
    ...rows.slice(0, 8).map((r) => `  row: ${one(r)}`),
    `notifications: ${toasts.length}`,
    ...toasts.slice(0, 8).map((t) => `  toast: ${one(t)}`),
  ];
}

/** The last lines of the extension's own log (trainer output, run folders re-read), without per-step noise. */
function extensionLogTail(tmp) {
  const logs = path.join(tmp, 'vscode', 'data', 'logs');
  const out = [];
  for (const f of fs.existsSync(logs) ? fs.readdirSync(logs, { recursive: true }).map(String) : []) {
    if (!f.endsWith('Fine-Tune Studio.log')) continue;
    const lines = fs.readFileSync(path.join(logs, f), 'utf8').split('\n');
    out.push(...lines.filter((l) => !/ (eval|checkpoint) @ step /.test(l)).slice(-60));
  }
  return out.length ? out : ['(the extension wrote no log)'];
}

/** Opens a config and waits for its "▶ Start run" CodeLens: the extension is active and knows the editor. */
export async function openConfig(page, name) {
  await openFile(page, name);
  await page
    .locator('.contentWidgets .codelens-decoration', { hasText: 'Start run' })
    .first()
    .waitFor({ timeout: 60000 });
}

/** Closes VS Code (printing the page errors it saw) and removes the suite's temp folder, unless KEEP_E2E is set. */
export async function teardown(vs, tmp) {
  if (vs) {
    if (vs.errors.length) console.log(`# page errors:\n#   ${vs.errors.slice(0, 5).join('\n#   ')}`);
    await vs.close();
  }
  if (!process.env.KEEP_E2E) fs.rmSync(tmp, { recursive: true, force: true });
  else console.log(`# kept ${tmp}`);
}

/**
 * One suite's VS Code, for `node:test`'s `test`, `before` and `after`: a temp folder whose `workspace` the suite's
 * `makeWorkspace(dir)` fills, the .vsix built and installed in a fresh code-server before the first journey and
 * closed after the last, screenshots under test-artifacts/e2e-<name>/. `journey` declares one journey.
 */
export function e2eSuite({ name, makeWorkspace, test, before, after }) {
  const artifacts = path.join(ROOT, 'test-artifacts', `e2e-${name}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `finetune-e2e-${name}-`));
  const t0 = Date.now();
  const suite = {
    artifacts,
    workspace: path.join(tmp, 'workspace'),
    page: undefined,
    log: (m) => console.log(`# [${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`),
    journey: (title, fn) => journeyTest(test, title, fn, { page: () => suite.page, artifacts, tmp }),
  };
  let vs;
  before(async () => {
    makeWorkspace(suite.workspace);
    const vsix = path.join(tmp, 'finetune-studio.vsix');
    buildVsix(vsix);
    suite.log(`built ${path.basename(vsix)}`);
    fs.rmSync(artifacts, { recursive: true, force: true });
    vs = await launch({ vsix, workspace: suite.workspace, runDir: path.join(tmp, 'vscode'), log: suite.log });
    suite.page = vs.page;
  });
  after(async () => {
    await teardown(vs, tmp);
  });
  return suite;
}
