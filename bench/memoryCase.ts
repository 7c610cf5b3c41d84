/**
 * One measurement of bench/memory.ts, in a process of its own (peak RSS is per process, and a WASM heap never
 * shrinks): a real training step of our engine on the WASM backend (loss and gradients, clipping, AdamW), its
 * WASM heap high-water and peak RSS, then a checkpoint save (model.safetensors and optimizer.safetensors, as
 * trainer/engine/checkpoint.ts writes them) and the peak RSS after it. Prints `MEMORY_RESULT {json}`.
 *
 *   node --import tsx bench/memoryCase.ts --model tiny --batch 8 --seq 128 [--steps 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { selectBackend } from '../trainer/backend';
import { BertModel } from '../trainer/model/bert';
import { AdamW } from '../trainer/optim/adamw';
import { clipByGlobalNorm } from '../trainer/optim/clip';
import { paramSetting } from '../trainer/optim/paramGroups';
import type { ParamSetting } from '../trainer/optim/paramGroups';
import { Replicas } from '../trainer/parallel/replicas';
import { writeSafetensors } from '../files/hf/safetensors';
import type { Tensor } from '../files/hf/safetensors';
import { BENCH_MODELS, syntheticBatch } from './models';
import type { ModelName } from './models';
import { argValue, wasmHeapBytes } from './util';

export interface MemoryCaseResult {
  model: ModelName;
  batch: number;
  seq: number;
  threads: number;
  steps: number;
  /** The WASM heap of this thread after the steps: its high-water mark. */
  heapBytes: number;
  /** Peak RSS after the steps, and after the checkpoint save. */
  rssStepBytes: number;
  rssSaveBytes: number;
  stepMs: number;
}

const peakRss = () => process.resourceUsage().maxRSS * 1024;

function optimizerFor(model: BertModel): AdamW {
  const settings = new Map<string, ParamSetting>();
  for (const n of model.parameterNames()) {
    const group = {
      learningRate: 5e-5,
      weightDecay: 0.01,
      noDecay: ['bias', 'LayerNorm.weight'],
      layerwiseLrDecay: 1,
      numLayers: model.config.num_hidden_layers,
    };
    settings.set(n, paramSetting(n, group));
  }
  return new AdamW(model.params, settings, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
}

/** What trainer/engine/checkpoint.ts writes: the weights in PyTorch layout, then the optimizer's moments. */
async function saveCheckpoint(model: BertModel, opt: AdamW, dir: string): Promise<void> {
  const weights = new Map<string, Tensor>();
  for (const [k, e] of await model.toStateDict()) weights.set(k, { shape: e.shape, data: e.data });
  await writeSafetensors(path.join(dir, 'model.safetensors'), weights, { format: 'pt' });
  const snap = await opt.snapshot();
  const moments = new Map<string, Tensor>();
  for (const [name, e] of snap.entries) {
    moments.set(`${name}.exp_avg`, { shape: e.shape, data: e.expAvg });
    moments.set(`${name}.exp_avg_sq`, { shape: e.shape, data: e.expAvgSq });
  }
  await writeSafetensors(path.join(dir, 'optimizer.safetensors'), moments, { step: String(snap.step) });
}

async function main(): Promise<void> {
  const name = (argValue('--model') ?? 'tiny') as ModelName;
  const B = Number(argValue('--batch') ?? 8);
  const S = Number(argValue('--seq') ?? 128);
  const steps = Number(argValue('--steps') ?? 2);
  await selectBackend('wasm');
  const config = BENCH_MODELS[name];
  const model = BertModel.create(config, 'sequence-classification', { numLabels: 2, seed: 1 });
  const batch = syntheticBatch(config, B, S);
  const replicas = await Replicas.start(model, { onFallback: (why) => console.error(why) });
  await replicas?.sync(model);
  const opt = optimizerFor(model);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const { grads } = replicas
      ? await replicas.lossAndGrads(model, batch, i, () => true)
      : await model.lossAndGrads(batch, { training: true, seed: i });
    await clipByGlobalNorm(grads, 1.0);
    opt.apply(grads, 1);
    for (const g of grads.values()) g.dispose();
    await replicas?.sync(model);
  }
  const stepMs = (performance.now() - t0) / steps;
  const heapBytes = wasmHeapBytes();
  const rssStepBytes = peakRss();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-memory-bench-'));
  try {
    await saveCheckpoint(model, opt, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const result: MemoryCaseResult = {
    model: name,
    batch: B,
    seq: S,
    threads: replicas?.threads ?? 1,
    steps,
    heapBytes,
    rssStepBytes,
    rssSaveBytes: peakRss(),
    stepMs,
  };
  opt.dispose();
  await replicas?.close();
  model.dispose();
  console.log(`MEMORY_RESULT ${JSON.stringify(result)}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
