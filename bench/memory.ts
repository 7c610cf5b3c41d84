/**
 * `node --import tsx bench/memory.ts [--cases tiny:8,tiny:32,mini:8,mini:32,base:4,base:16] [--seq 128]
 *                                  [--steps 2] [--base-steps 1]`
 *
 * The memory estimate (common/memoryEstimate.ts) against measured peaks: per case, a fresh process
 * (bench/memoryCase.ts) runs real training steps of our engine (two; one for BERT-base) on the WASM backend with one thread
 * (FINETUNE_THREADS=1: the heap is this thread's alone), then a checkpoint save. It prints a table of the
 * estimated and measured WASM heap (its high-water mark: it never shrinks), and the estimated process total
 * and the peak RSS after the save, with their ratios; the last line is the table as JSON.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { estimateForShape, formatBytes } from '../common/memoryEstimate';
import { THREADS_ENV } from '../common/protocol';
import type { MemoryCaseResult } from './memoryCase';
import { BENCH_MODELS } from './models';
import type { ModelName } from './models';
import { argValue } from './util';

interface Row {
  model: ModelName;
  batch: number;
  seq: number;
  estHeap: number;
  heap: number;
  estProcess: number;
  rss: number;
  steps: number;
  stepS: number;
}

function estimate(model: ModelName, batch: number, seq: number) {
  const c = BENCH_MODELS[model];
  return estimateForShape({
    config: c,
    head: 'sequence-classification',
    numLabels: 2,
    batchSize: batch,
    seqLength: seq,
  });
}

function measure(model: ModelName, batch: number, seq: number, steps: number): MemoryCaseResult {
  const args = ['--import', 'tsx', path.join(__dirname, 'memoryCase.ts'), '--model', model, '--batch', String(batch)];
  const r = spawnSync(process.execPath, [...args, '--seq', String(seq), '--steps', String(steps)], {
    encoding: 'utf8',
    env: { ...process.env, [THREADS_ENV]: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('MEMORY_RESULT '));
  if (!line) throw new Error(`${model} × ${batch}: no result (exit ${r.status})\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice('MEMORY_RESULT '.length)) as MemoryCaseResult;
}

function main(): void {
  const seq = Number(argValue('--seq') ?? 128);
  const steps = Number(argValue('--steps') ?? 2);
  const baseSteps = Number(argValue('--base-steps') ?? 1);
  const cases = (argValue('--cases') ?? 'tiny:8,tiny:32,mini:8,mini:32,base:4,base:16').split(',').map((c) => {
    const [model, batch] = c.split(':');
    return { model: model as ModelName, batch: Number(batch) };
  });
  const rows: Row[] = [];
  for (const { model, batch } of cases) {
    const e = estimate(model, batch, seq);
    // BERT-base takes minutes per step on a CPU: one step (the optimizer's state exists from its update on).
    const m = measure(model, batch, seq, model === 'base' ? baseSteps : steps);
    rows.push({
      model,
      batch,
      seq,
      estHeap: e.total,
      heap: m.heapBytes,
      estProcess: e.processTotal,
      rss: m.rssSaveBytes,
      steps: m.steps,
      stepS: m.stepMs / 1000,
    });
    // Each row as it comes: a long run that is stopped still leaves what it measured.
    process.stderr.write(`${JSON.stringify(rows[rows.length - 1])}\n`);
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`${cpu}, ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the end`);
  console.log(
    '| model | batch × seq | estimated heap | measured heap | ratio | estimated process | peak RSS | ratio |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    console.log(
      `| ${r.model} | ${r.batch} × ${r.seq} | ${r.steps} | ${formatBytes(r.estHeap)} | ${formatBytes(r.heap)} | ` +
        `${ratio(r.estHeap, r.heap)} | ${formatBytes(r.estProcess)} | ${formatBytes(r.rss)} | ${ratio(r.estProcess, r.rss)} |`,
    );
  }
  console.log(JSON.stringify({ cpu, loadavg: os.loadavg(), rows }));
}

main();
