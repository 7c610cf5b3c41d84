// End-to-end journey of sentence pairs (issue 17) in a real VS Code (code-server + headless chromium, `npm run
// e2e:setup`): the wizard offers the second text column and writes it; a tiny from-scratch model trains on a
// paraphrase-like file (sentence1, sentence2, label); the checkpoint explorer evaluates it with the run's own
// columns, pair included (the rows show both texts), and tries a pair typed into two fields named after the
// columns. Screenshots go to test-artifacts/e2e-pairs/. Run: node --test test/e2e/pairs.e2e.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  clearNotifications,
  e2eSuite,
  openConfig,
  pick,
  ROOT,
  runCommand,
  shot,
  tinyConfig,
  waitForQuickTitle,
} from './vscode.mjs';
import { acceptInFileDialog, ended, openCheckpoints, runsOf, waitFor, webviewFrame } from './panelsHarness.mjs';
import { generatePairs, pairsCsv } from '../fixtures/paraphrasePairs.mjs';

const VALIDATION = generatePairs(24, 8);

function makeWorkspace(workspace) {
  fs.mkdirSync(path.join(workspace, 'tokenizer'), { recursive: true });
  const vocab = path.join(ROOT, 'examples', 'sample', 'tokenizer', 'vocab.txt');
  fs.copyFileSync(vocab, path.join(workspace, 'tokenizer', 'vocab.txt'));
  fs.writeFileSync(path.join(workspace, 'pairs-train.csv'), pairsCsv(generatePairs(160, 7)));
  fs.writeFileSync(path.join(workspace, 'pairs-validation.csv'), pairsCsv(VALIDATION));
  const data = {
    train_file: 'pairs-train.csv',
    validation_file: 'pairs-validation.csv',
    text_column: 'sentence1',
    text_pair_column: 'sentence2',
    label_column: 'label',
  };
  const training = {
    num_train_epochs: 2,
    per_device_train_batch_size: 16,
    learning_rate: '1.0e-3',
    eval_strategy: 'epoch',
    save_strategy: 'epoch',
    logging_steps: 1,
    seed: 1,
  };
  fs.writeFileSync(path.join(workspace, 'mrpc-like.finetune.yaml'), '# pairs e2e\n' + tinyConfig(data, training));
}

const suite = e2eSuite({ name: 'pairs', makeWorkspace, test, before, after });
const { artifacts: ARTIFACTS, journey, workspace } = suite;
const runs = () => runsOf(workspace);
const webview = () => webviewFrame(suite.page);

journey('"Train from scratch" offers the second text of a pair and writes text_pair_column', async () => {
  const { page } = suite;
  // The suite's first command: wait until the extension is active (its CodeLens shows on a config).
  await openConfig(page, 'mrpc-like.finetune.yaml');
  await runCommand(page, 'Fine-Tune: Train from scratch');
  await waitForQuickTitle(page, 'Train from scratch');
  await pick(page, 'pairs-train.csv', 'pairs-train.csv', { placeholder: 'Training data' });
  await pick(page, 'sentence1', 'sentence1', { exact: true, placeholder: 'Column holding the text' });
  // The second-text step: "None — single text" first, sentence2 proposed.
  const rows = page.locator('.quick-input-list .monaco-list-row');
  await rows.first().waitFor({ timeout: 15000 });
  await waitForQuickTitle(page, 'Train from scratch');
  assert.match(await rows.first().innerText(), /None — single text/);
  await shot(page, ARTIFACTS, '01-wizard-pair-step');
  await pick(page, 'sentence2', 'sentence2', { placeholder: 'Second text of a sentence pair' });
  await pick(page, 'label', 'label', { exact: true, placeholder: 'Column holding the label' });
  await pick(page, 'Micro', 'Micro', { placeholder: 'Architecture' });
  await pick(page, 'tokenizer in the workspace', 'tokenizer', { placeholder: 'Tokenizer' });
  await pick(page, 'Text classification', 'classification', { placeholder: 'Task' });
  await page.locator('.tab.active', { hasText: 'pairs-train.finetune.yaml' }).waitFor({ timeout: 30000 });
  const text = fs.readFileSync(path.join(workspace, 'pairs-train.finetune.yaml'), 'utf8');
  assert.match(text, /^ {2}text_column: sentence1$/m);
  assert.match(text, /^ {2}text_pair_column: sentence2$/m);
  assert.match(text, /^ {2}label_column: label$/m);
  await clearNotifications(page);
});

journey('a tiny from-scratch model trains on sentence pairs', async () => {
  const { page } = suite;
  await openConfig(page, 'mrpc-like.finetune.yaml');
  await runCommand(page, 'Fine-Tune: Start run');
  const mine = () => runs().find((r) => r.configFile?.endsWith('mrpc-like.finetune.yaml'));
  const run = await waitFor(() => ended(mine()) && mine(), 'the pair run to finish', 180000);
  assert.equal(run.status, 'completed', run.error?.message);
  const resolved = fs.readFileSync(path.join(run.dir, 'config.resolved.yaml'), 'utf8');
  assert.match(resolved, /text_pair_column: sentence2/);
  assert.ok(
    fs.readdirSync(run.dir).some((f) => /^checkpoint-\d+$/.test(f)),
    'a checkpoint was saved',
  );
  await clearNotifications(page);
});

journey('the checkpoint explorer evaluates the pair run with its own columns and shows both texts', async () => {
  const { page } = suite;
  const table = await openCheckpoints(page, 'mrpc-like');
  const first = table.locator('tbody tr:not(.broken)').first();
  await first.locator('vscode-button[title^="Evaluate"]').click();
  await acceptInFileDialog(page, path.join(workspace, 'pairs-validation.csv'));
  // Either the evaluation or the panel's problem banner: say which.
  const evaluation = webview().locator('section.evaluation');
  const problem = webview().locator('.problem');
  await evaluation.locator('table.confusion').or(problem).first().waitFor({ timeout: 120000 });
  assert.equal(await problem.count(), 0, `Evaluate failed: ${(await problem.allInnerTexts()).join(' ')}`);
  assert.match(
    await evaluation.locator('h3').first().innerText(),
    /^Evaluation of checkpoint-\d+ on pairs-validation\.csv \(24 examples\)$/,
  );
  const rowsTable = evaluation.locator('table.rows');
  await rowsTable.waitFor({ timeout: 30000 });
  const heads = await rowsTable.locator('thead th').allInnerTexts();
  assert.deepEqual(
    heads.map((x) => x.trim()),
    ['line', 'sentence1', 'sentence2', 'label', 'predicted', 'probability'],
  );
  // The second text of each shown row is the file's sentence2 of that line: the pair column reached the trainer.
  const cells = await rowsTable
    .locator('tbody tr')
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  assert.ok(cells.length > 0, 'the evaluation shows rows');
  for (const [line, text, pair] of cells) {
    const source = VALIDATION[Number(line) - 2];
    assert.ok(source, `line ${line} is a row of the file`);
    assert.deepEqual([text, pair], [source.sentence1, source.sentence2]);
  }
  await shot(page, ARTIFACTS, '02-evaluate-pairs');
});

journey('"Try it" on the pair run takes two texts, in fields named after the columns', async () => {
  const { page } = suite;
  await clearNotifications(page);
  const table = await openCheckpoints(page, 'mrpc-like');
  await table.locator('tbody tr:not(.broken)').first().locator('vscode-button[title^="Try"]').click();
  const fields = webview().locator('.try .try-field');
  await fields.nth(1).waitFor({ timeout: 30000 });
  assert.deepEqual(
    (await fields.locator('.try-column').allInnerTexts()).map((x) => x.trim()),
    ['sentence1', 'sentence2'],
  );
  await fields.nth(0).locator('vscode-textfield input').fill('the phone is great.');
  await fields.nth(1).locator('vscode-textfield input').fill('honestly, the phone feels awful!');
  await fields.nth(1).locator('vscode-textfield input').press('Enter');
  const prediction = webview().locator('.prediction');
  await prediction.locator('.predicted').or(prediction.locator('.error-text')).first().waitFor({ timeout: 120000 });
  const shown = await prediction.innerText();
  assert.match(shown, /Predicted: (equivalent|not_equivalent)/);
  assert.match(shown, /sentence1: the phone is great\./);
  assert.match(shown, /sentence2: honestly, the phone feels awful!/);
  await prediction.scrollIntoViewIfNeeded();
  await shot(page, ARTIFACTS, '03-try-pair');
});
