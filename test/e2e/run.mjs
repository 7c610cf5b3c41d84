// End-to-end journeys of Fine-Tune Studio in a real VS Code (code-server + headless chromium, set up by
// `npm run e2e:setup`). Builds the .vsix, installs it into a fresh code-server whose HOME and XDG dirs live in a temp
// folder, opens a copy of the sample workspace, and drives the user's journeys through the palette, the wizard, the
// Runs view and the Problems panel. Screenshots go to test-artifacts/e2e/. Run: node test/e2e/run.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  buildVsix,
  journeyTest,
  teardown,
  clearNotifications,
  openFile,
  clickNotificationButton,
  launch,
  pick,
  ROOT,
  runCommand,
  runsRows,
  shot,
  sleep,
  tinyConfig,
  waitForQuickTitle,
} from './vscode.mjs';

const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-e2e-'));
const workspace = path.join(tmp, 'workspace');
const vsix = path.join(tmp, 'finetune-studio.vsix');
const t0 = Date.now();
const log = (m) => console.log(`# [${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);
let vs;
let page;

/** The sample workspace: reviews with a text and a label column, and a word-level tokenizer (examples/sample). */
function makeWorkspace() {
  const sample = path.join(ROOT, 'examples', 'sample');
  fs.mkdirSync(path.join(workspace, 'tokenizer'), { recursive: true });
  // 150 training rows keep a run to a few seconds on two cores.
  const train = fs.readFileSync(path.join(sample, 'train.csv'), 'utf8').split('\n').slice(0, 151).join('\n') + '\n';
  fs.writeFileSync(path.join(workspace, 'reviews.csv'), train);
  fs.copyFileSync(path.join(sample, 'tokenizer', 'vocab.txt'), path.join(workspace, 'tokenizer', 'vocab.txt'));
}

function runFolders() {
  const dir = path.join(workspace, '.finetune', 'runs');
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((d) => fs.existsSync(path.join(dir, d, 'run.json')))
        .map((d) => path.join(dir, d))
    : [];
}
const runJson = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));

async function openRunsView() {
  const tab = page.locator('.activitybar [aria-label^="Fine-Tune"]').first();
  const pane = page.locator('.pane-header', { hasText: 'Runs' }).first();
  // A click while the workbench is still restoring its layout (after a reload) can toggle the sidebar shut again,
  // so click until the view is there rather than once; the last wait fails the journey if it never is.
  for (let i = 0; i < 10 && !(await pane.isVisible()); i++) {
    await tab.click();
    if (
      await pane.waitFor({ timeout: 3000 }).then(
        () => true,
        () => false,
      )
    )
      break;
  }
  await pane.waitFor();
}

/** Waits until the Runs view row of a run (by its name) has text matching `re`; says what the rows showed if not. */
async function waitForRun(name, re, timeout = 60000) {
  const deadline = Date.now() + timeout;
  let texts = [];
  for (;;) {
    texts = await runsRows(page)
      .evaluateAll((rows) =>
        rows.map((r) => [
          r.querySelector('.label-name')?.textContent?.trim() ?? '',
          r.querySelector('.label-description')?.textContent?.trim() ?? '',
        ]),
      )
      .catch(() => []);
    const hit = texts.findIndex(([label, description]) => label === name && re.test(description));
    if (hit >= 0) return runsRows(page).nth(hit);
    if (Date.now() > deadline)
      throw new Error(
        `no run "${name}" matching ${re} in the Runs view within ${timeout} ms; rows: ${JSON.stringify(texts)}`,
      );
    await sleep(150);
  }
}

/** The Fine-Tune status bar item (statusBar.ts): VS Code gives its element the id `<extension id>.finetune.run`. */
const statusItem = () => page.locator('.statusbar-item[id$="finetune.run"]');

async function closeAllEditors() {
  await runCommand(page, 'View: Close All Editors');
  await sleep(300);
}

before(async () => {
  makeWorkspace();
  buildVsix(vsix);
  log(`built ${path.basename(vsix)} (${(fs.statSync(vsix).size / 1e6).toFixed(1)} MB)`);
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  vs = await launch({ vsix, workspace, runDir: path.join(tmp, 'vscode'), log });
  page = vs.page;
});

/** `UPDATE_SCREENSHOTS=1` refreshes the README's screenshots from this run. */
const README_SHOTS = {
  '03-wizard-wrote-config': 'wizard-config',
  '06-second-run-running': 'run-running',
  '10-problems': 'problems',
};

after(async () => {
  if (process.env.UPDATE_SCREENSHOTS) {
    for (const [from, to] of Object.entries(README_SHOTS)) {
      const src = path.join(ARTIFACTS, `${from}.png`);
      if (fs.existsSync(src)) fs.copyFileSync(src, path.join(ROOT, 'media', 'screenshots', `${to}.png`));
    }
  }
  await teardown(vs, tmp);
});

/** A journey: a failure leaves a screenshot, and the screen's state and the extension's log in the CI log. */
const journey = (name, fn) => journeyTest(test, name, fn, { page: () => page, artifacts: ARTIFACTS, tmp });

journey('the Fine-Tune view and its commands are there after start-up', async () => {
  await openRunsView();
  await page.locator('.welcome-view-content', { hasText: 'No runs yet' }).first().waitFor();
  await shot(page, ARTIFACTS, '01-runs-view-empty');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input').first();
  await input.fill('>Fine-Tune:');
  for (const c of ['Fine-tune model', 'Train from scratch', 'Start run', 'Check training environment']) {
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: `Fine-Tune: ${c}` })
      .first()
      .waitFor();
  }
  // No run is active, so Stop run stays out of the palette.
  assert.equal(await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Fine-Tune: Stop run' }).count(), 0);
  await shot(page, ARTIFACTS, '02-palette');
  await page.keyboard.press('Escape');
});

journey(
  '"Train from scratch" asks for data, columns, architecture, tokenizer and task, and opens the config it wrote',
  async () => {
    await runCommand(page, 'Fine-Tune: Train from scratch');
    await waitForQuickTitle(page, 'Train from scratch');
    await pick(page, 'reviews.csv', 'reviews.csv', { placeholder: 'Training data' });
    await pick(page, 'text', 'text', { exact: true, placeholder: 'Column holding the text' });
    await pick(page, 'label', 'label', { exact: true, placeholder: 'Column holding the label' });
    await pick(page, 'Micro', 'Micro', { placeholder: 'Architecture' });
    await pick(page, 'tokenizer in the workspace', 'tokenizer', { placeholder: 'Tokenizer' });
    await pick(page, 'Text classification', 'classification', { placeholder: 'Task' });
    await page.locator('.tab.active', { hasText: 'reviews.finetune.yaml' }).waitFor();
    const text = fs.readFileSync(path.join(workspace, 'reviews.finetune.yaml'), 'utf8');
    assert.match(text, /^mode: from-scratch$/m);
    assert.match(text, /^ {2}tokenizer: \.\/tokenizer$/m);
    assert.match(text, /^ {4}hidden_size: 32$/m);
    await page.locator('.notifications-toasts', { hasText: 'Wrote reviews.finetune.yaml' }).waitFor();
    await shot(page, ARTIFACTS, '03-wizard-wrote-config');
  },
);

journey(
  'starting the config shows the run in the Runs view going from running to completed with checkpoints',
  async () => {
    // Ten epochs, so that the run is seen running before it completes.
    const config = path.join(workspace, 'reviews.finetune.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/num_train_epochs: \d+/, 'num_train_epochs: 10'));
    await clickNotificationButton(page, 'Wrote reviews.finetune.yaml', 'Start run');
    await openRunsView();
    await waitForRun('reviews', /\b[1-9]\d*\/\d+/, 30000);
    await shot(page, ARTIFACTS, '04-run-running');
    const done = await waitForRun('reviews', /completed/, 90000);
    await done.locator('.monaco-tl-twistie').click();
    await runsRows(page).filter({ hasText: 'Checkpoints' }).first().waitFor();
    await runsRows(page)
      .filter({ hasText: /step \d+/ })
      .filter({ hasText: /best|last/ })
      .first()
      .waitFor();
    const [dir] = runFolders();
    assert.ok(dir, 'the run folder exists');
    assert.equal(runJson(dir).status, 'completed');
    assert.ok(
      fs.readdirSync(dir).some((f) => /^checkpoint-\d+$/.test(f)),
      'a checkpoint was saved',
    );
    await shot(page, ARTIFACTS, '05-run-completed');
    await clearNotifications(page);
  },
);

journey("a second run, fine-tuned from the first run's checkpoint, is stopped mid-way and resumed", async () => {
  await closeAllEditors();
  await runCommand(page, 'Fine-Tune: Fine-tune model');
  await waitForQuickTitle(page, 'Fine-tune model');
  await pick(page, 'reviews.csv', 'reviews.csv', { placeholder: 'Training data' });
  await pick(page, 'text', 'text', { exact: true, placeholder: 'Column holding the text' });
  await pick(page, 'label', 'label', { exact: true, placeholder: 'Column holding the label' });
  await pick(page, 'step', 'reviews', { placeholder: 'Base model' });
  await pick(page, 'Text classification', 'classification', { placeholder: 'Task' });
  await page.locator('.tab.active', { hasText: 'reviews-2.finetune.yaml' }).waitFor();
  const config = path.join(workspace, 'reviews-2.finetune.yaml');
  const text = fs.readFileSync(config, 'utf8');
  assert.match(text, /^mode: fine-tune$/m);
  assert.match(text, /name_or_path: \.\/\.finetune\/runs\/reviews-[\w-]+\/checkpoint-\d+$/m);
  // Long enough to be stopped mid-way.
  fs.writeFileSync(config, text.replace(/num_train_epochs: \d+/, 'num_train_epochs: 40'));
  await clickNotificationButton(page, 'Wrote reviews-2.finetune.yaml', 'Start run');
  await openRunsView();
  await waitForRun('reviews-2', /\b([1-9]\d*)\/\d+/, 60000);
  // The status bar shows the active run: its name, step/total and the loss (then the ETA).
  const item = statusItem();
  await item.filter({ hasText: /reviews-2\s+\d+\/\d+\s+loss / }).waitFor({ timeout: 30000 });
  const status = await item.innerText();
  const [, step, total] = /^\W*reviews-2\s+(\d+)\/(\d+)\s+loss \d+(?:\.\d+)?(?:e[+-]?\d+)?\b/.exec(status) ?? [];
  assert.ok(Number(step) >= 1 && Number(total) > Number(step), `the status bar shows the run's progress: ${status}`);
  await shot(page, ARTIFACTS, '06-second-run-running');
  await runCommand(page, 'Fine-Tune: Stop run');
  await waitForRun('reviews-2', /stopped/, 60000);
  // With no active run left, the item goes.
  await item.waitFor({ state: 'hidden', timeout: 30000 });
  const stopped = runFolders()
    .map((d) => runJson(d))
    .find((r) => r.configFile === config);
  assert.equal(stopped.status, 'stopped');
  assert.ok(
    stopped.checkpoints.length >= 1 ||
      fs.readdirSync(path.join(workspace, '.finetune', 'runs', stopped.runId)).some((f) => f.startsWith('checkpoint-')),
  );
  await shot(page, ARTIFACTS, '07-second-run-stopped');
  await clearNotifications(page);

  await runCommand(page, 'Fine-Tune: Resume run from checkpoint');
  // With two checkpoints (an epoch's and the one saved on stop) it asks which; with one it resumes at once.
  await pickLastCheckpointIfAsked();
  let resumed;
  for (let i = 0; i < 300 && !resumed; i++) {
    resumed = runFolders()
      .map((d) => runJson(d))
      .find((r) => r.configFile === config && r.resumedFrom);
    if (!resumed) await sleep(200);
  }
  assert.ok(resumed, 'a resumed run folder appeared');
  assert.match(resumed.resumedFrom, new RegExp(`checkpoint-${stopped.step}$`));
  // The resumed run continues in the same run folder after the stopped step (the data order is a function of the
  // step): metrics.jsonl's steps never go back, and go on past the stopped one.
  const metrics = path.join(workspace, '.finetune', 'runs', resumed.runId, 'metrics.jsonl');
  let steps = [];
  for (let i = 0; i < 300 && !steps.some((s) => s > stopped.step); i++) {
    steps = fs.existsSync(metrics) ? stepsOf(metrics) : [];
    if (!steps.some((s) => s > stopped.step)) await sleep(100);
  }
  assert.ok(
    steps.some((s) => s > stopped.step),
    `the resumed run goes on after step ${stopped.step}: ${steps}`,
  );
  assertIncreasing(steps, 'the resumed run');
  await waitForRun('reviews-2', /completed/, 90000);
  await shot(page, ARTIFACTS, '08-resumed-completed');
  await clearNotifications(page);
});

/** A run long enough to be killed after its first checkpoint, and short enough to finish after the resume. */
const KILLED_CONFIG = tinyConfig(
  { train_file: 'reviews.csv', text_column: 'text', label_column: 'label' },
  {
    max_steps: 80,
    per_device_train_batch_size: 8,
    learning_rate: '1.0e-3',
    eval_strategy: '"no"',
    save_strategy: 'steps',
    save_steps: 10,
    logging_steps: 1,
    seed: 3,
  },
);

const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const checkpointSteps = (dir) =>
  fs.readdirSync(dir).flatMap((f) => (/^checkpoint-(\d+)$/.exec(f) ? [Number(f.slice('checkpoint-'.length))] : []));

/** Starts the run, and SIGKILLs its trainer (as a crash or the OOM killer would) once a checkpoint is saved. */
async function startAndKill(config) {
  await openFile(page, path.basename(config));
  await runCommand(page, 'Fine-Tune: Start run');
  for (let i = 0; i < 1200; i++) {
    const dir = runFolders().find((d) => runJson(d).configFile === config);
    if (dir && checkpointSteps(dir).length) {
      const info = runJson(dir);
      assert.equal(info.status, 'running', 'the run is killed mid-run, not after it ended');
      process.kill(info.pid, 'SIGKILL');
      for (let j = 0; j < 100 && isAlive(info.pid); j++) await sleep(50);
      assert.ok(!isAlive(info.pid), `the trainer (pid ${info.pid}) is gone`);
      return { dir, step: Math.max(...checkpointSteps(dir)) };
    }
    await sleep(50);
  }
  throw new Error('the run saved no checkpoint within 60 s');
}

/** Byte length of every metrics.jsonl now, so that what a resume appends (or writes anew) can be told apart. */

/** The `step` records a run folder's metrics.jsonl gained after `offset` bytes (all of them if it was rewritten). */
/** Resume asks "From which checkpoint" only when a run has several: then the last is picked. */
async function pickLastCheckpointIfAsked() {
  const which = page.locator('.quick-input-widget .quick-input-box input[placeholder^="From which checkpoint"]');
  const asked = await which.waitFor({ timeout: 3000 }).then(
    () => true,
    () => false,
  );
  if (asked) await pick(page, 'last', '', { placeholder: 'From which checkpoint' });
}

/** The steps of a run's `step` records, in file order. */
function stepsOf(metricsFile) {
  return fs
    .readFileSync(metricsFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"step"'))
    .map((l) => JSON.parse(l).step);
}

/** A resumed run appends to its own metrics.jsonl after dropping what came after its checkpoint: no step twice. */
function assertIncreasing(steps, what) {
  const back = steps.findIndex((s, i) => i > 0 && s <= steps[i - 1]);
  assert.equal(back, -1, `${what}: metrics.jsonl's steps go back at record ${back}: ${steps}`);
}

journey('a killed trainer leaves its run interrupted; Resume in the Runs view completes it', async () => {
  await closeAllEditors();
  await clearNotifications(page);
  const config = path.join(workspace, 'killed.finetune.yaml');
  fs.writeFileSync(config, KILLED_CONFIG);
  const killed = await startAndKill(config);
  log(`killed the trainer of ${path.basename(killed.dir)} after checkpoint-${killed.step}`);
  await openRunsView();
  await waitForRun('killed', /failed/, 30000);
  assert.equal(runJson(killed.dir).status, 'running', 'run.json still says running: nobody said goodbye');

  // Reopen the window, as a user does after VS Code was killed with its trainer: the runs are read from disk.
  await page.reload();
  await page.locator('.monaco-workbench').waitFor();
  await openRunsView();
  const row = await waitForRun('killed', /interrupted/, 30000);
  await shot(page, ARTIFACTS, '09-interrupted');
  await row.click({ button: 'right' });
  const resume = page.locator('.context-view .action-label', { hasText: 'Resume run from checkpoint' }).first();
  await resume.waitFor();
  // VS Code's menus ignore a click that lands while they are still opening: click until the menu takes it.
  for (let i = 0; i < 5 && (await resume.isVisible()); i++) {
    await resume.click();
    await sleep(500);
  }
  assert.equal(await resume.isVisible(), false, 'the context menu took the click on Resume');
  // One checkpoint resumes at once; with several (killed after the second), the last is picked.
  await pickLastCheckpointIfAsked();
  const from = new RegExp(`checkpoint-${killed.step}$`);
  let resumed;
  for (let i = 0; i < 600 && resumed?.info.status !== 'completed'; i++) {
    const dir = runFolders().find((d) => from.test(runJson(d).resumedFrom ?? ''));
    resumed = dir && { dir, info: runJson(dir) };
    if (resumed?.info.status !== 'completed') await sleep(150);
  }
  assert.equal(resumed?.info.status, 'completed', `the resumed run completes: ${JSON.stringify(resumed?.info)}`);
  // The first step after a resume is always logged: the run went on from checkpoint-N at step N + 1.
  const steps = stepsOf(path.join(resumed.dir, 'metrics.jsonl'));
  assert.ok(steps.includes(killed.step + 1), `the resume continues from checkpoint-${killed.step}: ${steps}`);
  assertIncreasing(steps, 'the interrupted run');
  assert.equal(steps.at(-1), 80);
  await waitForRun('killed', /completed/, 30000);
  await shot(page, ARTIFACTS, '09-interrupted-resumed');
  await clearNotifications(page);
});

journey('a broken config shows its diagnostics in the Problems panel', async () => {
  await closeAllEditors();
  fs.writeFileSync(
    path.join(workspace, 'broken.finetune.yaml'),
    [
      'mode: fine-tune',
      'model:',
      '  name_or_path: ./tokenizer',
      'data:',
      '  train_file: reviews.csv',
      'training:',
      '  learning_rate: fast',
      '  num_train_epoch: 3',
      '',
    ].join('\n'),
  );
  await openFile(page, 'broken.finetune.yaml');
  await runCommand(page, 'View: Focus Problems');
  const problems = page.locator('.markers-panel .monaco-list-row');
  await problems
    .filter({ hasText: /learning_rate/ })
    .first()
    .waitFor({ timeout: 60000 });
  await problems
    .filter({ hasText: /num_train_epoch/ })
    .first()
    .waitFor();
  await shot(page, ARTIFACTS, '10-problems');
});

journey('"Check training environment" says which backend runs and what the GPU needs', async () => {
  await runCommand(page, 'Fine-Tune: Check training environment');
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Training runs on' }).first();
  await toast.waitFor();
  // The WebGPU part names the adapters found (here: Mesa's software one, which `auto` skips) or what is missing.
  assert.match(
    await toast.innerText(),
    /Training runs on (webgpu|wasm|tensorflow|cpu)\. GPU \(WebGPU\): .*(adapters found: |no WebGPU adapter found)/,
  );
  await shot(page, ARTIFACTS, '11-environment');
});
