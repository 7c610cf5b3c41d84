/**
 * The engine on each problem type: a tiny regression run (STS-B-like pairs) and a tiny multi-label run train
 * (their loss goes down), evaluate with their own metrics, write the problem type into every checkpoint's
 * config.json and predict from it; metric_for_best_model picks the checkpoint with the best Matthews correlation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';
import { readTrainerState } from '../../trainer/engine/checkpoint';
import { checkResumeProblemType } from '../../trainer/engine/problemTypeCheck';
import { evaluateFile, loadModelFolder, predictText } from '../../trainer/engine/inference';
import { runEngine } from './engineRunner';
import type { EngineRun } from './engineRunner';
import { easyBinaryWorkspace, multiLabelWorkspace, regressionWorkspace } from './taskFixtures';

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The mean loss of the first and of the last `k` logged steps. */
function lossTrend(run: EngineRun, k = 5): { first: number; last: number } {
  const losses = run.of('step').map((m) => m.loss ?? NaN);
  assert.ok(losses.length >= 2 * k, `only ${losses.length} steps logged`);
  return { first: mean(losses.slice(0, k)), last: mean(losses.slice(-k)) };
}

const configJson = (dir: string) =>
  JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;

/** The mean BCE of predicting each label with its frequency in a JSONL file: mean over labels of H(p). */
function priorBce(jsonl: string): number {
  const rows = jsonl
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { labels: string[] }).labels);
  const names = [...new Set(rows.flat())];
  const entropy = (p: number) => -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
  return mean(names.map((n) => entropy(rows.filter((r) => r.includes(n)).length / rows.length)));
}

const TRAIN = {
  max_steps: 36,
  learning_rate: 5e-3,
  per_device_train_batch_size: 16,
  eval_strategy: 'steps',
  eval_steps: 36,
  save_strategy: 'steps',
  save_steps: 36,
};

test('regression: MSE goes down, eval reports loss, pearson and spearmanr; config.json says regression', async () => {
  const ws = regressionWorkspace({ training: TRAIN });
  const run = await runEngine(ws.configFile);
  assert.equal(run.done.status, 'completed');
  const { first, last } = lossTrend(run);
  assert.ok(last < first * 0.7, `loss ${first} → ${last}`);
  const evals = run.of('eval');
  assert.deepEqual(Object.keys(evals.at(-1)!.metrics).sort(), ['loss', 'pearson', 'spearmanr']);
  assert.equal(evals.at(-1)!.confusion, undefined);
  // The trainer_state.json log names them as HF's Trainer does.
  const state = await readTrainerState(path.join(run.runDir, 'checkpoint-36'));
  const logged = state.log_history?.find((e) => 'eval_pearson' in e);
  assert.ok(logged && 'eval_spearmanr' in logged && 'eval_loss' in logged, JSON.stringify(state.log_history));

  const ckpt = path.join(run.runDir, 'checkpoint-36');
  const cfg = configJson(ckpt);
  assert.equal(cfg.problem_type, 'regression');
  assert.equal(cfg.num_labels, 1);
  assert.deepEqual(cfg.id2label, { 0: 'LABEL_0' });

  // Resuming it as another problem type is refused: the head and its optimizer moments belong to this loss.
  await checkResumeProblemType(ckpt, 'regression', ws.configFile);
  await assert.rejects(
    checkResumeProblemType(ckpt, 'single_label_classification', ws.configFile),
    (e: unknown) => e instanceof FineTuneError && e.code === 'resume-problem-type-differs' && /regression/.test(e.fix!),
  );

  const m = await loadModelFolder(ckpt);
  try {
    const p = await predictText(m, 'our tent was sturdy.', 'this jacket looks excellent.');
    assert.equal(typeof p.value, 'number');
    assert.equal(p.label, String(p.value));
    const e = await evaluateFile(m, path.join(ws.dir, 'stsb-validation.csv'), {
      textColumn: 'sentence1',
      textPairColumn: 'sentence2',
      labelColumn: 'score',
    });
    assert.deepEqual(Object.keys(e.metrics).sort(), ['loss', 'pearson', 'spearmanr']);
    // The same model on the same data: the run's last evaluation, recomputed from the saved checkpoint.
    assert.ok(Math.abs(e.metrics.pearson! - evals.at(-1)!.metrics.pearson!) < 1e-4);
  } finally {
    m.model.dispose();
  }
});

test('multi-label (inferred from JSONL lists): BCE goes down, subset accuracy and micro/macro F1', async () => {
  const ws = multiLabelWorkspace({ model: { threshold: 0.4 }, training: TRAIN });
  const run = await runEngine(ws.configFile);
  assert.equal(run.done.status, 'completed');
  assert.deepEqual(run.of('plan')[0]!.labels, ['friend', 'hedged', 'negative', 'positive']);
  const { first, last } = lossTrend(run);
  // Below what the label frequencies alone give (a head that learned only its biases): the text was read.
  const prior = priorBce(readFileSync(path.join(ws.dir, 'multi-train.jsonl'), 'utf8'));
  assert.ok(last < first && last < prior, `loss ${first} → ${last}, label-frequency BCE ${prior}`);
  const final = run.of('eval').at(-1)!;
  assert.deepEqual(Object.keys(final.metrics).sort(), ['accuracy', 'f1_macro', 'f1_micro', 'loss']);
  assert.equal(final.perClass?.length, 4);
  assert.equal(final.confusion, undefined, 'no confusion matrix for label sets');

  const ckpt = path.join(run.runDir, 'checkpoint-36');
  const cfg = configJson(ckpt);
  assert.equal(cfg.problem_type, 'multi_label_classification');
  assert.equal(cfg.threshold, 0.4);
  assert.deepEqual(cfg.label2id, { friend: 0, hedged: 1, negative: 2, positive: 3 });
  const m = await loadModelFolder(ckpt);
  try {
    assert.equal(m.labels?.problemType, 'multi_label_classification');
    assert.equal(m.labels?.threshold, 0.4);
    const p = await predictText(m, 'my new chair is sturdy, says my friend.');
    assert.ok(Array.isArray(p.labels));
    assert.equal(p.label, p.labels.join(', '));
    const probs = Object.values(p.probabilities);
    assert.equal(probs.length, 4);
    assert.deepEqual(
      p.labels,
      Object.keys(p.probabilities).filter((l) => p.probabilities[l]! > 0.4),
    );
  } finally {
    m.model.dispose();
  }
});

test('metric_for_best_model eval_matthews_correlation picks the checkpoint with the best MCC', async () => {
  const ws = easyBinaryWorkspace({
    training: {
      max_steps: 40,
      learning_rate: 5e-3,
      per_device_train_batch_size: 16,
      eval_strategy: 'steps',
      eval_steps: 8,
      save_strategy: 'steps',
      save_steps: 8,
      metric_for_best_model: 'eval_matthews_correlation',
      load_best_model_at_end: true,
    },
  });
  const run = await runEngine(ws.configFile);
  const evals = run.of('eval').filter((e) => e.split === 'validation');
  const mcc = evals.map((e) => e.metrics.matthews_correlation!);
  assert.equal(mcc.length, 5);
  assert.ok(new Set(mcc).size > 1, `the MCC must change for the choice to mean anything: ${mcc.join(', ')}`);
  // Greater is better (the name does not end in loss); the first of equal values stays best, as HF's Trainer.
  const bestAt = mcc.indexOf(Math.max(...mcc));
  const bestStep = evals[bestAt]!.step;
  assert.deepEqual(
    evals.map((e) => e.isBest),
    mcc.map((v, i) => v > Math.max(-Infinity, ...mcc.slice(0, i))),
  );
  const state = await readTrainerState(path.join(run.runDir, `checkpoint-${run.done.step}`));
  assert.equal(path.basename(state.best_model_checkpoint ?? ''), `checkpoint-${bestStep}`);
  assert.equal(state.best_metric, mcc[bestAt]);
  assert.equal(state.metric_for_best_model, 'matthews_correlation');
  assert.equal(state.greater_is_better, true);
  const loaded = run.of('log').find((l) => l.message.startsWith('Loaded the best model'));
  if (bestStep !== run.done.step) assert.match(loaded?.message ?? '', new RegExp(`checkpoint-${bestStep}\\b`));
});
