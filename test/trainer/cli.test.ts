import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseTrainerMessage } from '../../common/protocol';
import { evaluationGuard } from '../../common/webviewProtocol';
import type { Evaluation } from '../../common/webviewProtocol';
import { makeWorkspace } from './engineFixtures';
import { REPO } from './trainerProcess';
import { cli } from './cliProcess';

test('cli train (not a TTY): plain progress lines, a run folder, exit 0; then predict and evaluate the checkpoint', async () => {
  const ws = makeWorkspace({ training: { max_steps: 6, logging_steps: 3 } });
  const r = await cli(['train', path.basename(ws.configFile), '--max-steps', '4'], ws.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^backend: wasm/m);
  assert.match(r.stdout, /^step 1\/4 {2}loss [\d.]+ {2}lr [\d.e+-]+ {2}\d+ samples\/s {2}ETA \d\d:\d\d$/m);
  assert.match(r.stdout, /^step 4\/4 /m);
  assert.doesNotMatch(r.stdout, /\r|\x1b\[/, 'no terminal control codes when stdout is not a TTY');
  const last = /last checkpoint: (\S+)/.exec(r.stdout)?.[1];
  assert.ok(last?.endsWith('checkpoint-4'), r.stdout);
  if (!last) return;

  const p = await cli(['predict', '--model', last, '--text', 'the lamp is great', '--json'], ws.dir);
  assert.equal(p.code, 0, p.stderr);
  const lines = p.stdout
    .trim()
    .split('\n')
    .map((l) => parseTrainerMessage(l));
  assert.ok(lines.every((l) => l.ok));
  const result = lines.map((l) => (l.ok ? l.message : undefined)).find((m) => m?.type === 'result');
  assert.ok(result && result.type === 'result');
  const v = result.value as {
    label: string;
    probabilities: Record<string, number>;
    inputIds: number[];
    attentionMask: number[];
    logits: number[];
  };
  assert.ok(['negative', 'positive'].includes(v.label));
  assert.equal(v.inputIds[0], 2); // [CLS]
  assert.equal(v.inputIds.at(-1), 3); // [SEP]
  assert.equal(v.inputIds.length, 6);
  assert.deepEqual(v.attentionMask, [1, 1, 1, 1, 1, 1]);
  assert.equal(v.logits.length, 2);
  const softmax1 = 1 / (1 + Math.exp(v.logits[0]! - v.logits[1]!));
  assert.ok(Math.abs(v.probabilities.positive! - softmax1) < 1e-6);

  const human = await cli(['predict', '--model', last, '--text', 'the lamp is great'], ws.dir);
  assert.match(human.stdout, /^label {4} {2}score {2}text$/m);
  assert.match(human.stdout, /^(positive|negative) *0\.\d{4} {2}the lamp is great$/m);

  const e = await cli(['evaluate', '--model', last, '--data', 'validation.csv'], ws.dir);
  assert.equal(e.code, 0, e.stderr);
  assert.match(
    e.stdout,
    /^32 examples: loss [\d.]+ {2}accuracy [\d.]+ {2}f1 [\d.]+ {2}f1_macro [\d.]+ {2}matthews_correlation -?[\d.]+$/m,
  );
  assert.match(e.stdout, /^ {2}negative +[\d.]+ +[\d.]+ +[\d.]+ +\d+$/m);

  // The checkpoint explorer reads the --json result through evaluationGuard.
  const ej = await cli(['evaluate', '--model', last, '--data', 'validation.csv', '--json'], ws.dir);
  assert.equal(ej.code, 0, ej.stderr);
  const evaluated = ej.stdout
    .split('\n')
    .map((l) => parseTrainerMessage(l))
    .find((r) => r.ok && r.message.type === 'result');
  assert.ok(evaluated?.ok && evaluated.message.type === 'result', ej.stdout);
  assert.equal(evaluationGuard.check(evaluated.message.value, 'evaluation'), undefined);
  const ev = evaluated.message.value as Evaluation;
  assert.equal(ev.examples, 32);
  assert.equal(
    ev.perClass?.reduce((n, p) => n + p.support, 0),
    32,
  );
  assert.equal(
    ev.confusion?.flat().reduce((a, b) => a + b, 0),
    32,
  );
});

test('cli train with a bad config prints file:line:col errors with fixes and exits 2', async () => {
  const ws = makeWorkspace();
  writeFileSync(
    path.join(ws.dir, 'bad.finetune.yaml'),
    ['mode: fine-tune', 'data:', '  train_file: missing.csv', 'training:', '  lr_scheduler_type: cosin', ''].join('\n'),
  );
  const r = await cli(['train', 'bad.finetune.yaml'], ws.dir);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /bad\.finetune\.yaml:5:22: error: `training.lr_scheduler_type` must be one of .*Did you mean `cosine`\? \[invalid-enum\]\n {2}fix: Change to `cosine`/,
  );
  assert.match(r.stderr, /bad\.finetune\.yaml:1:1: error: `mode: fine-tune` needs `model.name_or_path`/);
  assert.doesNotMatch(r.stdout, /^step /m);
});

test('cli without a command prints usage; an unknown command exits 2', async () => {
  const r = await cli(['frobnicate'], REPO);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command frobnicate; the commands are train, evaluate, predict/);
  assert.match(r.stderr, /See `finetune-studio --help`/);
});
