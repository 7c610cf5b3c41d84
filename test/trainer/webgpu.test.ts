/**
 * The engine on the webgpu backend (here Mesa's software adapter, lavapipe) against the same engine on wasm:
 * training, evaluation, prediction and checkpoints crossing backends. Skips only where no adapter exists at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors } from '../../files/hf/safetensors';
import { selectBackend } from '../../trainer/backend';
import { clipByGlobalNorm } from '../../trainer/optim/clip';
import { evaluateFile, loadModelFolder, predictText } from '../../trainer/engine/inference';
import { makeWorkspace, withOverrides, writeConfig } from './engineFixtures';
import { needAdapter, trainOn } from './webgpuFixtures';
import type { BackendRun } from './webgpuFixtures';

// One thread: the wasm side must not split batches across workers, so both sides compute the same sums.
process.env['FINETUNE_THREADS'] = '1';

const DROPOUT = { hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 };
// Dropout, warm-up, weight decay and two micro-batches per step: every piece of state takes part.
const TRAINING = {
  max_steps: 10,
  gradient_accumulation_steps: 2,
  warmup_steps: 2,
  weight_decay: 0.01,
  save_strategy: 'steps',
  save_steps: 5,
};

function relClose(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b), 1e-12);
}

function assertLossesClose(got: BackendRun['steps'], want: BackendRun['steps'], what: string): void {
  assert.deepEqual(
    got.map((m) => m.step),
    want.map((m) => m.step),
    `${what}: steps`,
  );
  got.forEach((m, i) => {
    const w = want[i]!.loss!;
    assert.ok(relClose(m.loss!, w, 1e-4), `${what}: step ${m.step} loss ${m.loss} vs ${w}`);
    const gw = want[i]!.gradNorm!;
    assert.ok(relClose(m.gradNorm!, gw, 1e-3), `${what}: step ${m.step} gradient norm ${m.gradNorm} vs ${gw}`);
  });
}

async function assertWeightsClose(dirA: string, dirB: string, tol: number): Promise<void> {
  const a = (await readSafetensors(path.join(dirA, 'model.safetensors'))).tensors;
  const b = (await readSafetensors(path.join(dirB, 'model.safetensors'))).tensors;
  assert.equal(a.size, b.size);
  for (const [k, t] of a) {
    const u = b.get(k)!.data as Float32Array;
    const v = t.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(u[i]! - v[i]!));
    assert.ok(worst <= tol, `${k}: weights differ by up to ${worst}`);
  }
}

test("webgpu: clipping's norm over more gradients than one GPU kernel may bind equals the CPU's", async (t) => {
  if (!(await needAdapter(t))) return;
  await selectBackend('webgpu');
  // 40 gradients: more than the 8 to 10 storage buffers a WebGPU kernel may bind (AddN of all would be refused).
  const values = Array.from({ length: 40 }, (_, i) => [i * 0.25, -1, 0.5]);
  const grads = new Map(values.map((v, i) => [`p${i}`, tf.tensor1d(v)] as const));
  const expected = Math.sqrt(values.flat().reduce((a, x) => a + x * x, 0));
  const norm = await clipByGlobalNorm(grads, 1);
  assert.ok(relClose(norm, expected, 1e-6), `norm ${norm} vs ${expected}`);
  const scaled = (await grads.get('p4')!.data())[0]!;
  assert.ok(relClose(scaled, (4 * 0.25) / (expected + 1e-6), 1e-5), `clipped value ${scaled}`);
  for (const g of grads.values()) g.dispose();
});

/** The workspace and both backends' uninterrupted runs, shared by the tests below. */
let shared: Promise<{ ws: ReturnType<typeof makeWorkspace>; wasm: BackendRun; gpu: BackendRun }> | undefined;
function bothRuns() {
  shared ??= (async () => {
    const ws = makeWorkspace({ training: TRAINING, model: { architecture: DROPOUT } });
    const wasm = await trainOn('wasm', ws.configFile);
    const gpu = await trainOn('webgpu', ws.configFile);
    return { ws, wasm, gpu };
  })();
  return shared;
}

test('webgpu: 10 training steps match wasm (losses within 1e-4 relative, weights within 1e-4)', async (t) => {
  if (!(await needAdapter(t))) return;
  const { wasm, gpu } = await bothRuns();
  assert.equal(gpu.done.status, 'completed');
  assert.equal(gpu.steps.length, 10);
  assertLossesClose(gpu.steps, wasm.steps, 'webgpu vs wasm');
  await assertWeightsClose(gpu.done.lastCheckpoint!, wasm.done.lastCheckpoint!, 1e-4);
});

/** Resumes from `from`'s checkpoint-5 on `backend`: steps 6..10 continue `from`'s own loss curve. */
async function resumeOn(backend: 'webgpu' | 'wasm', from: BackendRun, ws: { dir: string }): Promise<BackendRun> {
  const ckpt = path.join(path.dirname(from.done.lastCheckpoint!), 'checkpoint-5');
  const file = path.join(ws.dir, `resume-on-${backend}.finetune.yaml`);
  const training = { ...TRAINING, save_strategy: 'no', resume_from_checkpoint: ckpt };
  writeConfig(file, withOverrides({ training, model: { architecture: DROPOUT } }));
  return trainOn(backend, file);
}

test('a checkpoint saved on webgpu resumes on wasm, and one saved on wasm resumes on webgpu', async (t) => {
  if (!(await needAdapter(t))) return;
  const { ws, wasm, gpu } = await bothRuns();
  const onWasm = await resumeOn('wasm', gpu, ws);
  assertLossesClose(onWasm.steps, gpu.steps.slice(5), 'webgpu checkpoint resumed on wasm');
  await assertWeightsClose(onWasm.done.lastCheckpoint!, gpu.done.lastCheckpoint!, 1e-4);
  const onGpu = await resumeOn('webgpu', wasm, ws);
  assertLossesClose(onGpu.steps, wasm.steps.slice(5), 'wasm checkpoint resumed on webgpu');
  await assertWeightsClose(onGpu.done.lastCheckpoint!, wasm.done.lastCheckpoint!, 1e-4);
});

test('webgpu: evaluate and predict agree with wasm on the same checkpoint', async (t) => {
  if (!(await needAdapter(t))) return;
  const { ws, wasm } = await bothRuns();
  const ckpt = wasm.done.lastCheckpoint!;
  const data = path.join(ws.dir, 'validation.csv');
  const texts = ['a great little lamp', 'it broke after a day, awful'];
  const results = [];
  for (const backend of ['wasm', 'webgpu'] as const) {
    await selectBackend(backend);
    const m = await loadModelFolder(ckpt);
    const ev = await evaluateFile(m, data);
    const preds = [];
    for (const text of texts) preds.push(await predictText(m, text));
    m.model.dispose();
    results.push({ ev, preds });
  }
  const [w, g] = results as [(typeof results)[0], (typeof results)[0]];
  assert.equal(g.ev.examples, w.ev.examples);
  assert.equal(g.ev.metrics['accuracy'], w.ev.metrics['accuracy']);
  assert.ok(
    relClose(g.ev.metrics['loss']!, w.ev.metrics['loss']!, 1e-4),
    `eval loss ${g.ev.metrics['loss']} vs ${w.ev.metrics['loss']}`,
  );
  assert.deepEqual(g.ev.confusion, w.ev.confusion);
  g.preds.forEach((p, i) => {
    const q = w.preds[i]!;
    assert.equal(p.label, q.label);
    p.logits.forEach((x, j) =>
      assert.ok(Math.abs(x - q.logits[j]!) <= 1e-4, `text ${i} logit ${j}: ${x} vs ${q.logits[j]}`),
    );
  });
  assert.equal(tf.getBackend(), 'webgpu');
});
