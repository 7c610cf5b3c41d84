// What the panel journeys share (panels.e2e.mjs, pairs.e2e.mjs): the run folders of a workspace, a wait that
// fails with what it waited for, the content frame of a webview panel, VS Code's simple file dialog, and the last
// logged step of a run as its metrics.jsonl and its metrics panel show it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pick, runCommand, sleep } from './vscode.mjs';

/** The runs under `<workspace>/.finetune/runs` that have a run.json, each with its folder. */
export function runsOf(workspace) {
  const dir = path.join(workspace, '.finetune', 'runs');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((d) => fs.existsSync(path.join(dir, d, 'run.json')))
    .map((d) => ({ dir: path.join(dir, d), ...JSON.parse(fs.readFileSync(path.join(dir, d, 'run.json'), 'utf8')) }));
}

/** Polls `fn` until it returns something truthy; throws "timed out waiting for <what>" after `timeout` ms. */
export async function waitFor(fn, what, timeout = 120000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

export const ended = (r) => r && r.status !== 'running';

/** A quick-pick row of a run: its name, then (no space in innerText) its status. */
export const runRow = (name) =>
  new RegExp(
    `^\\s*${name}\\s*(queued|starting|running|stopping|completed|stopped|cancelled|early-stopped|failed|interrupted)`,
  );

/** The content frame of the active webview panel (code-server nests it two iframes deep). */
export function webviewFrame(page) {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
}

/** Types a path into VS Code's simple file dialog (code-server's showOpenDialog) and accepts it. */
export async function acceptInFileDialog(page, value) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 30000 });
  // The dialog writes its starting folder into the box once it has listed it, over anything typed before (a CI
  // run once accepted the bare folder that way). Wait for the folder, then type until the value holds.
  const end = Date.now() + 30000;
  while ((await input.inputValue()) === '' && Date.now() < end) await sleep(100);
  for (let attempt = 0; attempt < 5; attempt++) {
    await input.fill(value);
    await sleep(750);
    if ((await input.inputValue()) === value) break;
  }
  assert.equal(await input.inputValue(), value, 'the file dialog kept the typed path');
  await page.keyboard.press('Enter');
}

/** Opens the checkpoint explorer of the run named `run` from the palette; resolves with its table of checkpoints. */
export async function openCheckpoints(page, run) {
  await runCommand(page, 'Fine-Tune: Open checkpoints');
  await pick(page, runRow(run), run);
  const table = webviewFrame(page).locator('table.checkpoints');
  await table.waitFor({ timeout: 60000 });
  return table;
}

/** The last `step` message of a run folder's metrics.jsonl (as the trainer wrote it): `{ step, loss, … }`. */
export function lastStepOf(dir) {
  const lines = fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  const steps = lines.map((l) => JSON.parse(l)).filter((m) => m.type === 'step');
  const last = steps[steps.length - 1];
  assert.ok(last && Number.isFinite(last.loss), `metrics.jsonl of ${dir} ends with a step with a finite loss`);
  return last;
}

/**
 * Hovers the right end of the metrics panel's training-loss chart, as a person reads its last point; resolves with
 * the tip's x ("step 240") and its raw loss as printed.
 */
export async function hoverLatestLoss(page) {
  const chart = webviewFrame(page).locator('.chart:has(canvas[aria-label="Training loss"])').first();
  const canvas = chart.locator('canvas');
  const box = await canvas.boundingBox();
  assert.ok(box, 'the training-loss chart is on screen');
  await canvas.hover({ position: { x: box.width - 2, y: box.height / 2 } });
  const tip = chart.locator('.chart-tip');
  await tip.waitFor({ state: 'visible', timeout: 10000 });
  const x = (await tip.locator('.tip-x').innerText()).trim();
  const lines = (await tip.locator('div:not(.tip-x)').allInnerTexts()).map((l) => l.trim());
  // "raw" beside "smoothed" while smoothing is on; "value" alone when it is off.
  const loss = lines.map((l) => /^(?:raw|value): (\S+)$/.exec(l)?.[1]).find(Boolean);
  assert.ok(loss, `the tip shows the raw loss: ${lines.join(' | ')}`);
  return { x, loss };
}
