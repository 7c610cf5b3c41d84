// End-to-end journeys of the panels in a real VS Code (code-server + headless chromium, `npm run e2e:setup`):
// the trainer and the language server running under the remote extension host, the metrics of a live run
// advancing and, in the browser, equal to its run folder's, two runs compared, a module frozen from the freezing
// panel, and from the checkpoint explorer a resume, a "try it", an evaluation on a file, an export and a delete.
// Uses the harness of test/e2e/vscode.mjs. Screenshots go to test-artifacts/e2e-panels/.
// Run: node --test test/e2e/panels.e2e.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  buildVsix,
  journeyTest,
  openConfig,
  teardown,
  clearNotifications,
  openFile,
  launch,
  pick,
  ROOT,
  runCommand,
  shot,
  sleep,
  tinyConfig,
} from './vscode.mjs';
import {
  acceptInFileDialog as acceptInPageFileDialog,
  ended,
  hoverLatestLoss,
  lastStepOf,
  runRow,
  runsOf,
  waitFor,
  webviewFrame,
} from './panelsHarness.mjs';
import { describeChain, hasProcFs } from './processTree.mjs';
import { assertLanguageServerUnder, assertTrainerUnderServer } from './serverSide.mjs';

const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e-panels');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-e2e-panels-'));
const workspace = path.join(tmp, 'workspace');
const vsix = path.join(tmp, 'finetune-studio.vsix');
const t0 = Date.now();
const log = (m) => console.log(`# [${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);
let vs;
let page;

const DATA = { train_file: 'train.csv', validation_file: 'validation.csv', text_column: 'text', label_column: 'label' };
const config = (lr, epochs, data = DATA) =>
  '# panels e2e\n' +
  tinyConfig(data, {
    num_train_epochs: epochs,
    per_device_train_batch_size: 8,
    learning_rate: lr,
    eval_strategy: 'epoch',
    save_strategy: 'epoch',
    save_total_limit: 3,
    metric_for_best_model: 'accuracy',
    logging_steps: 1,
    seed: 1,
  });

function makeWorkspace() {
  const sample = path.join(ROOT, 'examples', 'sample');
  fs.mkdirSync(path.join(workspace, 'tokenizer'), { recursive: true });
  const head = (f, n) =>
    fs
      .readFileSync(path.join(sample, f), 'utf8')
      .split('\n')
      .slice(0, n + 1)
      .join('\n') + '\n';
  fs.writeFileSync(path.join(workspace, 'train.csv'), head('train.csv', 160));
  fs.writeFileSync(path.join(workspace, 'validation.csv'), head('validation.csv', 40));
  fs.copyFileSync(path.join(sample, 'tokenizer', 'vocab.txt'), path.join(workspace, 'tokenizer', 'vocab.txt'));
  fs.writeFileSync(path.join(workspace, 'a.finetune.yaml'), config('1.0e-3', 12));
  fs.writeFileSync(path.join(workspace, 'b.finetune.yaml'), config('3.0e-4', 3));
  // Run c names its columns as a user's own data does, not the default text/label.
  const renamed = (f) =>
    'sentence,sentiment\n' + fs.readFileSync(path.join(workspace, f), 'utf8').replace(/^text,label\n/, '');
  fs.writeFileSync(path.join(workspace, 'reviews-train.csv'), renamed('train.csv'));
  fs.writeFileSync(path.join(workspace, 'reviews-validation.csv'), renamed('validation.csv'));
  const c = config('1.0e-3', 2, {
    train_file: 'reviews-train.csv',
    validation_file: 'reviews-validation.csv',
    text_column: 'sentence',
    label_column: 'sentiment',
  });
  fs.writeFileSync(path.join(workspace, 'c.finetune.yaml'), c);
  fs.mkdirSync(path.join(workspace, 'exported'));
}

const runs = () => runsOf(workspace);
const acceptInFileDialog = (value) => acceptInPageFileDialog(page, value);
const webview = () => webviewFrame(page);

before(async () => {
  makeWorkspace();
  buildVsix(vsix);
  log(`built ${path.basename(vsix)}`);
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  vs = await launch({ vsix, workspace, runDir: path.join(tmp, 'vscode'), log });
  page = vs.page;
});

after(async () => {
  await teardown(vs, tmp);
});

/** A journey: a failure leaves a screenshot, and the screen's state and the extension's log in the CI log. */
const journey = (name, fn) => journeyTest(test, name, fn, { page: () => page, artifacts: ARTIFACTS, tmp });

const runA = () => runs().find((r) => r.configFile?.endsWith('a.finetune.yaml'));

journey(
  'a run started in the browser trains in a child of the remote extension host, as the language server does',
  async (t) => {
    // The suite's first command: wait until the extension is active and sees the editor (a CI run once started
    // "Start run" before that, and the run never began).
    await openConfig(page, 'a.finetune.yaml');
    await runCommand(page, 'Fine-Tune: Start run');
    // run.json is written by the trainer itself, with its pid; run a trains on through the next journey.
    const run = await waitFor(runA, 'run a to start');
    assert.equal(run.status, 'running', `run a trains: ${run.error?.message}`);
    if (!hasProcFs()) return t.skip('which process started which is read from /proc, which only Linux has');
    const { host, chain } = assertTrainerUnderServer(vs, run.pid);
    log(`trainer: ${describeChain(chain)}`);
    await assertLanguageServerUnder(vs, host);
  },
);

journey('the metrics panel of a live run shows the step count and the loss chart advancing', async () => {
  const run = await waitFor(runA, 'run a to start');
  await runCommand(page, 'Fine-Tune: Open metrics');
  await pick(page, runRow('a'), 'a');
  const stepCount = webview().locator('.step-count').first();
  await stepCount.waitFor({ timeout: 60000 });
  const stepOf = async () => Number(/step (\d+)/.exec(await stepCount.innerText())?.[1] ?? -1);
  let first = await stepOf();
  for (let i = 0; i < 120 && first <= 0; i++) (await sleep(250), (first = await stepOf()));
  assert.ok(first > 0, 'the step count shows progress');
  assert.ok((await webview().locator('canvas.chart-canvas').count()) >= 4, 'the charts are drawn');
  let later = first;
  for (let i = 0; i < 120 && later <= first && !ended(runs().find((r) => r.runId === run.runId)); i++)
    (await sleep(250), (later = await stepOf()));
  assert.ok(later > first, `the step count advanced (${first} → ${later})`);
  await shot(page, ARTIFACTS, '01-metrics-live');
  await waitFor(() => ended(runs().find((r) => r.runId === run.runId)), 'run a to finish', 180000);
  await clearNotifications(page);
});

journey("the metrics panel, rendered in the browser, shows the run folder's latest step and loss", async () => {
  // The panel the previous journey opened, fed live from the extension host: its last point against the file
  // the trainer wrote on the server side.
  const run = await waitFor(() => ended(runA()) && runA(), 'run a to finish', 180000);
  const last = lastStepOf(run.dir);
  const stepCount = webview().locator('.run-header .step-count').first();
  await stepCount
    .filter({ hasText: new RegExp(`^step ${last.step}\\b`) })
    .waitFor({ timeout: 30000 })
    .catch(async (e) => {
      throw new Error(`the header shows "${await stepCount.innerText()}", not step ${last.step}: ${e.message}`);
    });
  const shown = await hoverLatestLoss(page);
  log(`panel: ${shown.x}, loss ${shown.loss}; metrics.jsonl: step ${last.step}, loss ${last.loss}`);
  assert.equal(shown.x, `step ${last.step}`, 'the loss chart ends at the last logged step');
  // The panel prints 4 significant digits (3 in exponent form): the file's value rounded to them.
  const within = (/e/i.test(shown.loss) ? 5e-3 : 5e-4) * Math.abs(last.loss);
  assert.ok(
    Math.abs(Number(shown.loss) - last.loss) <= within,
    `the panel's latest loss ${shown.loss} is metrics.jsonl's ${last.loss} (step ${last.step})`,
  );
  await shot(page, ARTIFACTS, '01-metrics-latest');
});

journey('two runs compared side by side, with their config differences', async () => {
  await openFile(page, 'b.finetune.yaml');
  await runCommand(page, 'Fine-Tune: Start run');
  await waitFor(() => ended(runs().find((r) => r.configFile?.endsWith('b.finetune.yaml'))), 'run b to finish', 180000);
  await clearNotifications(page);
  await runCommand(page, 'Fine-Tune: Compare with…');
  const rows = page.locator('.quick-input-list .monaco-list-row');
  await rows.first().waitFor();
  for (const name of ['a', 'b'])
    await rows
      .filter({ hasText: runRow(name) })
      .first()
      .click();
  await page.keyboard.press('Enter');
  await webview().locator('.run-header').nth(1).waitFor({ timeout: 60000 });
  await webview().locator('table.grid', { hasText: 'training.learning_rate' }).first().waitFor();
  await shot(page, ARTIFACTS, '02-compare');
});

journey('ticking a module in the freezing panel writes the freeze list and the config stays clean', async () => {
  await openFile(page, 'a.finetune.yaml');
  await runCommand(page, 'Fine-Tune: Layer freezing');
  const row = webview().locator('.module-row[data-path="bert.embeddings"]');
  await row.waitFor({ timeout: 60000 });
  await shot(page, ARTIFACTS, '03-freezing-panel');
  await row.locator('vscode-checkbox').click();
  await webview().locator('.module-row.frozen[data-path="bert.embeddings"]').waitFor({ timeout: 30000 });
  await shot(page, ARTIFACTS, '03-freezing-panel-embeddings-frozen');
  await page.locator('.tab', { hasText: 'a.finetune.yaml' }).first().click();
  await page.locator('.monaco-editor .view-lines', { hasText: 'bert.embeddings' }).first().waitFor({ timeout: 30000 });
  await runCommand(page, 'View: Focus Problems');
  await sleep(1500);
  const problems = await page.locator('.markers-panel .monaco-list-row', { hasText: /freeze/ }).count();
  assert.equal(problems, 0, 'no diagnostics about the freeze list');
  await shot(page, ARTIFACTS, '03-freezing');
});

journey('the checkpoint explorer resumes a run and tries a checkpoint on a sentence', async () => {
  const before = runs().length;
  await runCommand(page, 'Fine-Tune: Open checkpoints');
  await pick(page, runRow('a'), 'a');
  const table = webview().locator('table.checkpoints');
  await table.waitFor({ timeout: 60000 });
  await shot(page, ARTIFACTS, '04-checkpoints');
  // Run a completed with save_total_limit 3 and three checkpoints: none of them is deleted by a next save.
  assert.ok((await table.locator('tbody tr').count()) >= 3, 'run a kept three checkpoints');
  assert.equal(await table.locator('.badge-delete').count(), 0, 'no "deleted next" badge on a completed run');
  const row = table.locator('tbody tr:not(.broken)').first();
  await row.locator('vscode-button[title^="Try"]').click();
  const input = webview().locator('.try vscode-textfield input');
  await input.fill('this jacket looks great!');
  await input.press('Enter');
  await webview().locator('.prediction .predicted').waitFor({ timeout: 120000 });
  assert.match(await webview().locator('.prediction').innerText(), /Predicted: (positive|negative)/);
  await shot(page, ARTIFACTS, '05-try');
  await row.locator('vscode-button[title^="Resume"]').click();
  const resumed = await waitFor(
    () => runs().length > before && runs().find((r) => r.resumedFrom),
    'a resumed run',
    60000,
  );
  assert.match(resumed.resumedFrom, /checkpoint-\d+$/);
  await waitFor(() => ended(runs().find((r) => r.runId === resumed.runId)), 'the resumed run to finish', 180000);
});

journey(
  'the checkpoint explorer evaluates a checkpoint on a data file, exports it as a model folder and deletes one after asking',
  async () => {
    await clearNotifications(page);
    await runCommand(page, 'Fine-Tune: Open checkpoints');
    await pick(page, runRow('a'), 'a');
    const table = webview().locator('table.checkpoints');
    await table.waitFor({ timeout: 60000 });
    const sound = table.locator('tbody tr:not(.broken)');
    assert.ok((await sound.count()) >= 2, 'run a kept at least two checkpoints');
    const first = sound.first();
    const firstPath = await first.getAttribute('data-path');

    await first.locator('vscode-button[title^="Evaluate"]').click();
    await acceptInFileDialog(path.join(workspace, 'validation.csv'));
    const evaluation = webview().locator('section.evaluation');
    await evaluation.locator('table.confusion').waitFor({ timeout: 120000 });
    assert.match(
      await evaluation.locator('h3').first().innerText(),
      /^Evaluation of checkpoint-\d+ on validation\.csv \(40 examples\)$/,
    );
    assert.match(await evaluation.locator('table.scalars').innerText(), /accuracy/);
    const support = (
      await evaluation.locator('table[aria-label="Per-class metrics"] tbody tr td:last-child').allInnerTexts()
    ).map(Number);
    assert.equal(
      support.reduce((a, b) => a + b, 0),
      40,
      'every validation row is counted once',
    );
    await shot(page, ARTIFACTS, '06-evaluate');

    const exportDir = path.join(workspace, 'exported');
    await first.locator('vscode-button[title^="Export"]').click();
    await acceptInFileDialog(`${exportDir}/`);
    const exported = await waitFor(
      () =>
        fs
          .readdirSync(exportDir)
          .map((d) => path.join(exportDir, d))
          .find((d) => fs.existsSync(path.join(d, 'README.md'))),
      'the exported model folder',
      60000,
    );
    assert.ok(path.basename(exported).endsWith(path.basename(firstPath)), `named after the checkpoint: ${exported}`);
    const files = fs.readdirSync(exported);
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'README.md'])
      assert.ok(files.includes(f), `${f} exported (${files.join(', ')})`);
    for (const f of ['optimizer.safetensors', 'trainer_state.json'])
      assert.ok(!files.includes(f), `${f} is training state, not exported`);
    // The checkpoint's own model card (the trainer writes it), as the Hub reads one.
    const card = fs.readFileSync(path.join(exported, 'README.md'), 'utf8');
    assert.match(card, /^---\nlibrary_name: transformers\n/);
    assert.match(card, /trained from scratch/);
    await clearNotifications(page);

    const last = sound.last();
    const lastPath = await last.getAttribute('data-path');
    assert.notEqual(lastPath, firstPath);
    await last.locator('vscode-button[title^="Delete"]').click();
    await page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Delete' }).first().click();
    await waitFor(() => !fs.existsSync(lastPath), 'the checkpoint folder to be removed', 30000);
    await table.locator(`tbody tr[data-path="${lastPath}"]`).waitFor({ state: 'detached', timeout: 30000 });
    assert.ok(fs.existsSync(firstPath), 'the other checkpoints stay');
    await shot(page, ARTIFACTS, '07-deleted');
  },
);

journey('the checkpoint explorer evaluates a run trained on its own column names (sentence/sentiment)', async () => {
  await clearNotifications(page);
  await openFile(page, 'c.finetune.yaml');
  await runCommand(page, 'Fine-Tune: Start run');
  const runC = () => runs().find((r) => r.configFile?.endsWith('c.finetune.yaml'));
  const run = await waitFor(() => ended(runC()) && runC(), 'run c to finish', 180000);
  assert.equal(run.status, 'completed', run.error?.message);
  await clearNotifications(page);
  await runCommand(page, 'Fine-Tune: Open checkpoints');
  await pick(page, runRow('c'), 'c');
  const table = webview().locator('table.checkpoints');
  await table.waitFor({ timeout: 60000 });
  const first = table.locator('tbody tr:not(.broken)').first();
  await first.locator('vscode-button[title^="Evaluate"]').click();
  await acceptInFileDialog(path.join(workspace, 'reviews-validation.csv'));
  // Either the evaluation or the panel's problem banner (what a missing column gave before): say which.
  const evaluation = webview().locator('section.evaluation table.confusion');
  const problem = webview().locator('.problem');
  await evaluation.or(problem).first().waitFor({ timeout: 120000 });
  assert.equal(await problem.count(), 0, `Evaluate failed: ${(await problem.allInnerTexts()).join(' ')}`);
  const title = await webview().locator('section.evaluation h3').first().innerText();
  assert.match(title, /^Evaluation of checkpoint-\d+ on reviews-validation\.csv \(40 examples\)$/);
  await shot(page, ARTIFACTS, '08-evaluate-own-columns');
});
