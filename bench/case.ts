/**
 * Runs one benchmark case in this process and prints one line `BENCH_RESULT {json}`. The orchestrator
 * (run.ts) starts a fresh process per case so that peak RSS and the WASM heap (which never shrinks) belong
 * to that case alone.
 *
 *   node --import tsx bench/case.ts --case tiny-train-wasm [--steps 10] [--warmup 3] [--budget-s 120]
 *                                   [--batch 32] [--seq 128] [--wasm-threads 2 (experimental)]
 * The leak check of the issue (numTensors flat over 1,000 steps) is this with small shapes:
 *   node --import tsx bench/case.ts --case tiny-train-wasm --steps 1000 --warmup 1 --batch 4 --seq 32
 *
 * A training step is what trainer/engine/train.ts does per optimizer step: loss and gradients, global-norm
 * clipping at 1.0, AdamW (weight decay 0.01 except bias/LayerNorm.weight, as HF's defaults).
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../trainer/backend';
import { BertModel } from '../trainer/model/bert';
import { Replicas } from '../trainer/parallel/replicas';
import { AdamW } from '../trainer/optim/adamw';
import { clipByGlobalNorm } from '../trainer/optim/clip';
import { paramSetting } from '../trainer/optim/paramGroups';
import type { ParamSetting } from '../trainer/optim/paramGroups';
import { BENCH_MODELS, parseCaseName, syntheticBatch } from './models';
import { argValue, median, wasmHeapBytes } from './util';
import { withWasmThreads } from './wasmThreads';

export interface CaseResult {
  case: string;
  model: string;
  mode: string;
  engine: 'tfjs';
  backend: string;
  /** Why that backend, naming the GPU adapter on webgpu. */
  backend_reason: string;
  threads: number;
  batch: number;
  seq: number;
  steps: number;
  warmup: number;
  /** Per-step wall times of the timed steps, ms. */
  step_ms: number[];
  /** CPU time (user + system) of this process per timed step, ms: above step_ms only with threads. */
  cpu_ms: number[];
  /** From the median step time: robust to a busy machine (others' processes share the cores). */
  samples_per_s: number;
  tokens_per_s: number;
  peak_rss_mb: number;
  wasm_heap_mb: number | null;
  /** WASM heap after the first timed step: equal to wasm_heap_mb when later steps need no more memory. */
  wasm_heap_first_mb: number | null;
  /** Live tensors after the first and the last timed step: equal when nothing leaks. */
  tensors_first: number;
  tensors_last: number;
  /** True when the time budget ended the run before `steps` timed steps. */
  capped: boolean;
}

async function main(): Promise<void> {
  const name = argValue('--case');
  if (!name)
    throw new Error(
      'usage: bench/case.ts --case <tiny|mini>-<train|infer>-<wasm|cpu> [--steps N] [--warmup N] [--budget-s S]',
    );
  const spec = parseCaseName(name);
  const steps = Number(argValue('--steps') ?? 10);
  const warmup = Number(argValue('--warmup') ?? 3);
  const budgetMs = Number(argValue('--budget-s') ?? 600) * 1000;
  const B = Number(argValue('--batch') ?? 32);
  const S = Number(argValue('--seq') ?? 128);

  // Experimental: the threaded WASM build (see wasmThreads.ts: training steps can hang).
  const wasmThreads = Number(argValue('--wasm-threads') ?? 1);
  if (wasmThreads > 1 && spec.backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm'); // registers the flag
  const choice =
    wasmThreads > 1 && spec.backend === 'wasm'
      ? await withWasmThreads(
          wasmThreads,
          () => tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true),
          () => selectBackend('wasm'),
        )
      : // From bench/gpu.sh's bundle, dawn.node sits next to this file (dawn/<platform>/).
        await selectBackend(spec.backend, { bundleDir: __dirname });
  const config = BENCH_MODELS[spec.model];
  const model = BertModel.create(config, 'sequence-classification', { numLabels: 2, seed: 1 });
  const batch = syntheticBatch(config, B, S);

  let step: () => unknown;
  let optimizer: AdamW | undefined;
  // As the engine runs: each batch split across worker threads, FINETUNE_THREADS of them in all (replicas.ts);
  // FINETUNE_THREADS=1 measures this thread alone.
  const replicas = await Replicas.start(model, { onFallback: (why) => console.error(why) });
  await replicas?.sync(model);
  if (spec.mode === 'train') {
    const settings = new Map<string, ParamSetting>();
    for (const n of model.parameterNames()) {
      settings.set(
        n,
        paramSetting(n, {
          learningRate: 5e-5,
          weightDecay: 0.01,
          noDecay: ['bias', 'LayerNorm.weight'],
          layerwiseLrDecay: 1,
          numLayers: config.num_hidden_layers,
        }),
      );
    }
    const opt = new AdamW(model.params, settings, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    optimizer = opt;
    let seed = 0;
    // What trainer/engine/train.ts does per step: gradients (on every thread), clipping, AdamW, new weights to the workers.
    step = async () => {
      const { grads } = replicas
        ? await replicas.lossAndGrads(model, batch, seed++, () => true)
        : await model.lossAndGrads(batch, { training: true, seed: seed++ });
      await clipByGlobalNorm(grads, 1.0);
      opt.apply(grads, 1);
      for (const g of grads.values()) g.dispose();
      await replicas?.sync(model);
      // A GPU runs the update after the step returns; reading a weight waits for it, so the time counts it.
      if (choice.name === 'webgpu') await model.params.get('classifier.bias')!.data();
    };
  } else {
    step = () => (replicas ? replicas.predict(model, batch) : model.predict(batch));
  }

  const t0 = performance.now();
  for (let i = 0; i < warmup; i++) await step();
  const times: number[] = [];
  const cpu: number[] = [];
  let tensorsFirst = 0;
  let heapFirst = 0;
  let capped = false;
  for (let i = 0; i < steps; i++) {
    const ts = performance.now();
    const c0 = process.cpuUsage();
    await step();
    times.push(performance.now() - ts);
    const dc = process.cpuUsage(c0);
    cpu.push((dc.user + dc.system) / 1000);
    if (i === 0) {
      tensorsFirst = tf.memory().numTensors;
      heapFirst = wasmHeapBytes();
    }
    if (performance.now() - t0 > budgetMs && i + 1 < steps) {
      capped = true;
      break;
    }
  }
  const med = median(times);
  const result: CaseResult = {
    case: name,
    model: spec.model,
    mode: spec.mode,
    engine: 'tfjs',
    backend: choice.name,
    backend_reason: choice.reason,
    // The replicas' threads (each runs a single-threaded backend), else the backend's own.
    threads: replicas
      ? replicas.threads
      : spec.backend === 'wasm'
        ? (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount()
        : 1,
    batch: B,
    seq: S,
    steps: times.length,
    warmup,
    step_ms: times.map((t) => Math.round(t * 10) / 10),
    cpu_ms: cpu.map((t) => Math.round(t * 10) / 10),
    samples_per_s: (B * 1000) / med,
    tokens_per_s: (B * S * 1000) / med,
    // maxRSS is in KiB: the high-water mark of this process, which is why each case has its own.
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    wasm_heap_mb: choice.name === 'wasm' ? wasmHeapBytes() / 2 ** 20 : null,
    wasm_heap_first_mb: choice.name === 'wasm' ? heapFirst / 2 ** 20 : null,
    tensors_first: tensorsFirst,
    tensors_last: tf.memory().numTensors,
    capped,
  };
  optimizer?.dispose();
  await replicas?.close();
  model.dispose();
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
