// The CLI end to end, spawned as the user runs it: a config key set on the command line changes the run and is
// recorded in its folder, a bad override names its flag, predict classifies several texts (a table, or JSON
// lines), and a mistyped local path is a missing folder rather than a Hub lookup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseTrainerMessage } from '../../common/protocol';
import type { TrainerMessage } from '../../common/protocol';
import { makeWorkspace } from './engineFixtures';
import { cli, spawnCli } from './cliProcess';

const ws = makeWorkspace({ training: { max_steps: 6, save_strategy: 'steps', save_steps: 6, logging_steps: 1 } });

function messages(stdout: string): TrainerMessage[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const r = parseTrainerMessage(l);
      assert.ok(r.ok, `not a protocol message: ${l}`);
      return r.message;
    });
}

/** `--max_steps 1` trains one step of the six the file asks for; the checkpoint it leaves is predicted with. */
const trained = (async () => {
  const r = await cli(
    ['train', path.basename(ws.configFile), '--max_steps', '1', '--learning-rate', '3e-4', '--json'],
    ws.dir,
  );
  return { r, msgs: r.code === 0 ? messages(r.stdout) : [] };
})();

test('--max_steps 1 runs exactly one step, and config.resolved.yaml records the overrides as from the command line', async () => {
  const { r, msgs } = await trained;
  assert.equal(r.code, 0, r.stderr);
  const steps = msgs.filter((m) => m.type === 'step');
  assert.deepEqual(
    steps.map((m) => m.step),
    [1],
  );
  const plan = msgs.find((m) => m.type === 'plan');
  assert.ok(plan?.type === 'plan');
  assert.equal(plan.totalSteps, 1);
  const resolved = readFileSync(path.join(plan.runDir, 'config.resolved.yaml'), 'utf8');
  assert.match(resolved, /^# Set on the command line \(not in the config file\):$/m);
  assert.match(resolved, /^# {3}--max_steps 1 \(training\.max_steps\)$/m);
  assert.match(resolved, /^ {2}max_steps: 1 # from the command line: --max_steps 1$/m);
  assert.match(resolved, /^ {2}learning_rate: 0\.0003 # from the command line: --learning-rate 3e-4$/m);
  // The user's file is untouched.
  assert.match(readFileSync(ws.configFile, 'utf8'), /max_steps: 6/);
});

test('a bad override value exits 2 and names the flag; a key of the file keeps its line', async () => {
  const r = await cli(['train', path.basename(ws.configFile), '--learning_rate', '0', '--max_steps', 'ten'], ws.dir);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^--learning_rate: error: `training\.learning_rate` = 0 is out of range: it must be in \(0, 10\]/m,
  );
  assert.match(r.stderr, /^--max_steps: error: `training\.max_steps` must be an integer, not "ten"/m);
  assert.doesNotMatch(r.stdout, /^step /m);
});

test('predict: three texts as an aligned table, and as JSON lines in order', async () => {
  const { msgs } = await trained;
  const checkpoint = msgs.find((m) => m.type === 'checkpoint');
  assert.ok(checkpoint?.type === 'checkpoint', 'the run saved a checkpoint');
  const texts = ['the lamp is great', 'awful, it broke', 'ok'];
  const args = ['predict', '--model', checkpoint.path, ...texts.flatMap((t) => ['--text', t])];
  const table = await cli(args, ws.dir);
  assert.equal(table.code, 0, table.stderr);
  const rows = table.stdout.split('\n').filter((l) => /^(label|positive|negative)\b/.test(l));
  assert.equal(rows.length, 4, table.stdout);
  assert.match(rows[0]!, /^label {4} {2}score {2}text$/);
  rows.slice(1).forEach((row, i) => {
    assert.match(row, /^(positive|negative) *0\.\d{4} {2}/);
    assert.ok(row.endsWith(`  ${texts[i]}`), row);
    assert.equal(row.indexOf('  0.'), rows[1]!.indexOf('  0.'), 'the score column is aligned');
  });

  const json = await cli([...args, '--json'], ws.dir);
  assert.equal(json.code, 0, json.stderr);
  const results = messages(json.stdout).filter((m) => m.type === 'result');
  assert.deepEqual(
    results.map((m) => (m.value as { text: string }).text),
    texts,
  );
  for (const m of results) {
    const v = m.value as { label: string; probabilities: Record<string, number> };
    assert.equal(v.label, Object.entries(v.probabilities).sort((a, b) => b[1] - a[1])[0]![0]);
  }
});

test('predict --file: one text per non-empty line; a missing file is bad input', async () => {
  const { msgs } = await trained;
  const checkpoint = msgs.find((m) => m.type === 'checkpoint');
  assert.ok(checkpoint?.type === 'checkpoint');
  writeFileSync(path.join(ws.dir, 'lines.txt'), 'great lamp\r\n\nterrible\nfine\n');
  const r = await cli(['predict', '--model', checkpoint.path, '--file', 'lines.txt', '--json'], ws.dir);
  assert.equal(r.code, 0, r.stderr);
  const texts = messages(r.stdout)
    .filter((m) => m.type === 'result')
    .map((m) => (m.value as { text: string }).text);
  assert.deepEqual(texts, ['great lamp', 'terrible', 'fine']);
  const missing = await cli(['predict', '--model', checkpoint.path, '--file', 'nope.txt'], ws.dir);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file: .*nope\.txt/);
});

test('a local path that does not exist is a missing folder, not a Hub id', async () => {
  mkdirSync(path.join(ws.dir, 'runs'), { recursive: true });
  const p = await cli(['predict', '--model', 'runs/nope', '--text', 'hi'], ws.dir);
  assert.equal(p.code, 2);
  assert.match(p.stderr, new RegExp(`no such folder: runs/nope \\(${path.join(ws.dir, 'runs', 'nope')}\\)`));
  assert.doesNotMatch(p.stderr, /cannot reach|download|not found on the Hub/i);
  const resume = await cli(
    ['train', path.basename(ws.configFile), '--resume-from-checkpoint', 'runs/x/checkpoint-3'],
    ws.dir,
  );
  assert.equal(resume.code, 2);
  assert.match(resume.stderr, /no such folder: runs\/x\/checkpoint-3/);
  // Set on the command line: the flag is named, with the folder it resolved to.
  writeFileSync(
    path.join(ws.dir, 'ft.finetune.yaml'),
    'mode: fine-tune\nbackend: wasm\nmodel:\n  name_or_path: runs/nope\ndata:\n  train_file: train.csv\n',
  );
  const cfg = await cli(['train', 'ft.finetune.yaml', '--model.name_or_path', 'runs/other'], ws.dir);
  assert.equal(cfg.code, 2);
  const other = path.join(ws.dir, 'runs', 'other').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const flagged = `^--model\\.name_or_path: error: \`model\\.name_or_path\`: no such folder: runs/other \\(${other}\\)`;
  assert.match(cfg.stderr, new RegExp(flagged, 'm'));
  assert.deepEqual(readdirSync(path.join(ws.dir, 'runs')), [], 'nothing was written for the refused commands');
});

test('Ctrl-C stops after the current step with a checkpoint, and the CLI exits 130', async () => {
  const child = spawnCli(
    ['train', path.basename(ws.configFile), '--max_steps', '100000', '--save_strategy', 'no'],
    ws.dir,
  );
  let stdout = '';
  let stderr = '';
  const firstStep = new Promise<void>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (/^step 1\//m.test(stdout)) resolve();
    });
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await Promise.race([firstStep, exit]);
  child.kill('SIGINT');
  assert.equal(await exit, 130, `${stdout}\n${stderr}`);
  assert.match(stderr, /Stopping after this step and saving a checkpoint/);
  assert.match(stdout, /^stopped at step \d+ /m);
  assert.match(stdout, /^saved .*checkpoint-\d+/m);
});
