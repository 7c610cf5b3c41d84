/**
 * Where one training (or inference) step's time goes, per tfjs kernel.
 *
 *   node --import tsx bench/profile.ts [--model tiny|mini] [--backend wasm|cpu] [--mode train|infer]
 *                                      [--by name|shape] [--top 20] [--markdown]
 *
 * Uses tf.profile, which times each kernel synchronously (exact on wasm and cpu, whose kernels run on the
 * calling thread). "outside kernels" is the rest of the step's wall time: JS glue, the tape, dropout masks
 * generated in JS, gradient bookkeeping.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../trainer/backend';
import { BertModel } from '../trainer/model/bert';
import { AdamW } from '../trainer/optim/adamw';
import { clipByGlobalNorm } from '../trainer/optim/clip';
import { paramSetting } from '../trainer/optim/paramGroups';
import type { ParamSetting } from '../trainer/optim/paramGroups';
import { BENCH_MODELS, syntheticBatch } from './models';
import type { BenchBackend, ModelName } from './models';
import { argValue, wasmHeapBytes } from './util';

function heapNote(): string {
  return tf.getBackend() === 'wasm' ? `, WASM heap ${(wasmHeapBytes() / 2 ** 20).toFixed(0)} MB` : '';
}

export interface KernelRow {
  kernel: string;
  calls: number;
  ms: number;
}

/** Sums kernel times by name (or name + input shapes), largest first. */
export function aggregateKernels(
  kernels: readonly { name: string; kernelTimeMs: number | { error: string }; inputShapes: number[][] }[],
  byShape: boolean,
): KernelRow[] {
  const agg = new Map<string, KernelRow>();
  for (const k of kernels) {
    const key = byShape ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
    const row = agg.get(key) ?? { kernel: key, calls: 0, ms: 0 };
    row.calls += 1;
    row.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    agg.set(key, row);
  }
  return [...agg.values()].sort((a, b) => b.ms - a.ms);
}

async function main(): Promise<void> {
  const modelName = (argValue('--model') ?? 'tiny') as ModelName;
  const backend = (argValue('--backend') ?? 'wasm') as BenchBackend;
  const mode = argValue('--mode') ?? 'train';
  const byShape = argValue('--by') === 'shape';
  const top = Number(argValue('--top') ?? 20);
  const markdown = process.argv.includes('--markdown');
  const config = BENCH_MODELS[modelName];
  if (!config) throw new Error(`--model must be tiny or mini, got ${modelName}`);

  await selectBackend(backend);
  const model = BertModel.create(config, 'sequence-classification', { numLabels: 2, seed: 1 });
  const batch = syntheticBatch(config, Number(argValue('--batch') ?? 32), Number(argValue('--seq') ?? 128));
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
  let seed = 0;
  const step = async (): Promise<void> => {
    if (mode === 'infer') {
      await model.predict(batch);
      return;
    }
    const { grads } = await model.lossAndGrads(batch, { training: true, seed: seed++ });
    await clipByGlobalNorm(grads, 1.0);
    opt.apply(grads, 1);
    for (const g of grads.values()) g.dispose();
  };
  await step(); // warm-up: first-call allocations and kernel set-up
  const t0 = performance.now();
  await step();
  const plainMs = performance.now() - t0;
  const t1 = performance.now();
  const info = await tf.profile(step);
  const profiledMs = performance.now() - t1;
  // customGrad records its whole forward as one "unnamed scope" entry around the kernels it runs, which are
  // recorded too: keep registered kernels only, so nothing is counted twice.
  const rows = aggregateKernels(info.kernels as never, byShape).filter(
    (r) => tf.getKernel(r.kernel.split(' ')[0]!, tf.getBackend()) !== undefined,
  );
  const kernelMs = rows.reduce((s, r) => s + r.ms, 0);
  const title = `${modelName} ${mode} on ${backend}: step ${plainMs.toFixed(0)} ms unprofiled, ${profiledMs.toFixed(0)} ms profiled, kernels ${kernelMs.toFixed(0)} ms; peak tensor bytes ${(info.peakBytes / 2 ** 20).toFixed(0)} MB, ${tf.memory().numTensors} tensors live after${heapNote()}`;
  const shown = rows.slice(0, top);
  const rest = rows.slice(top);
  const restMs = rest.reduce((s, r) => s + r.ms, 0);
  const lines: [string, string, string, string][] = shown.map((r) => [
    r.kernel,
    String(r.calls),
    r.ms.toFixed(1),
    ((100 * r.ms) / profiledMs).toFixed(1),
  ]);
  if (rest.length)
    lines.push([
      `(${rest.length} other kernels)`,
      String(rest.reduce((s, r) => s + r.calls, 0)),
      restMs.toFixed(1),
      ((100 * restMs) / profiledMs).toFixed(1),
    ]);
  lines.push([
    'outside kernels (JS, tape, masks)',
    '',
    (profiledMs - kernelMs).toFixed(1),
    ((100 * (profiledMs - kernelMs)) / profiledMs).toFixed(1),
  ]);
  console.log(title);
  if (markdown) {
    console.log('| kernel | calls | ms | % of step |\n|---|---:|---:|---:|');
    for (const l of lines) console.log(`| ${l.join(' | ')} |`);
  } else {
    for (const l of lines)
      console.log(`${l[0].padEnd(60)} ${l[1].padStart(5)} ${l[2].padStart(9)} ${l[3].padStart(6)}%`);
  }
  opt.dispose();
  model.dispose();
}

if (process.argv[1]?.endsWith('profile.ts')) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  });
}
