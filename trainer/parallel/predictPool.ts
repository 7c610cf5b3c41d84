/**
 * Data-parallel inference on the CPU. The WebAssembly backend runs one thread under Node (backend.ts), so an
 * evaluation would use one core of many. The pool splits each batch by examples: worker threads, each with its
 * own backend and a copy of the weights, predict their shards while this thread predicts the first one.
 * Training stays on one thread; only evaluation and batch prediction go through here.
 *
 * A pool that cannot start, or a worker that fails, costs speed, never the run: predictions then come from this
 * thread alone, and `onFallback` says why once.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { backendForWorkers } from '../backend';
import type { Batch } from '../data/batch';
import type { BertModel, Prediction } from '../model/bert';
import type { FromWorker, ToWorker } from './messages';
import { inferenceThreads } from './threads';
import { concatPredictions, predictionRows, shardRanges, sliceBatch } from './shard';

/**
 * The worker: the bundle's sibling in dist/, or, when this runs from source through tsx (tests, benchmarks,
 * scripts), the TypeScript source behind tsx's require hook (a worker does not inherit the parent's loader).
 */
function startWorker(): Worker {
  const ts = path.join(__dirname, 'predictWorker.ts');
  if (__filename.endsWith('.ts') && existsSync(ts)) return new Worker(`require('tsx/cjs'); require(${JSON.stringify(ts)});`, { eval: true });
  return new Worker(path.join(__dirname, 'predictWorker.js'));
}

type Pending = { resolve: (m: FromWorker) => void; reject: (e: Error) => void };

class PredictWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (m: FromWorker) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.type === 'error') p.reject(new Error(m.message));
      else p.resolve(m);
    });
    const fail = (e: Error) => {
      this.dead ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the inference worker exited (code ${code})`)));
  }

  /** Sends one request and waits for its answer; the worker keeps the process alive only while one is out. */
  request(m: DistributiveOmit<ToWorker, 'id'>, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<FromWorker>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ ...m, id } as ToWorker, transfer);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class PredictPool {
  private failure: string | null = null;

  private constructor(
    private readonly workers: PredictWorker[],
    private readonly onFallback: (why: string) => void,
  ) {}

  /**
   * Starts `threads - 1` workers for models shaped like `model`, on this thread's backend. Null when one thread
   * is all there is to use, or the backend is not one that workers help (native TensorFlow); a pool whose
   * workers cannot start reports that through `onFallback` and is null too.
   */
  static async start(model: BertModel, o: { threads?: number; onFallback?: (why: string) => void } = {}): Promise<PredictPool | null> {
    const threads = o.threads ?? inferenceThreads();
    const backend = backendForWorkers();
    const onFallback = o.onFallback ?? (() => {});
    if (threads <= 1 || !backend) return null;
    const workers: PredictWorker[] = [];
    try {
      for (let i = 1; i < threads; i++) workers.push(new PredictWorker(startWorker()));
      await Promise.all(
        workers.map((w) =>
          w.request({ type: 'init', preference: backend.preference, ...(backend.opts.wasmDir ? { wasmDir: backend.opts.wasmDir } : {}), config: model.config, head: model.head, numLabels: model.numLabels }),
        ),
      );
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      onFallback(`inference runs on one thread: its worker threads did not start (${e instanceof Error ? e.message : String(e)})`);
      return null;
    }
    return new PredictPool(workers, onFallback);
  }

  /** Threads that predict a batch: the workers and this one. */
  get threads(): number {
    return this.failure ? 1 : this.workers.length + 1;
  }

  /** Copies the model's current weights to every worker: before each evaluation, since training changes them. */
  async sync(model: BertModel): Promise<void> {
    if (this.failure) return;
    const names = [...model.params.keys()];
    const shapes = names.map((n) => model.params.get(n)!.shape);
    const data = names.map((n) => model.params.get(n)!.dataSync() as Float32Array);
    try {
      await Promise.all(this.workers.map((w) => w.request({ type: 'weights', names, shapes, data })));
    } catch (e) {
      this.fail(e);
    }
  }

  /** The model's prediction for a batch, as model.predict(batch) gives it, computed on every thread of the pool. */
  async predict(model: BertModel, batch: Batch): Promise<Prediction> {
    const ranges = this.failure ? [] : shardRanges(batch.size, this.workers.length + 1);
    if (ranges.length <= 1) return model.predict(batch);
    const shards = ranges.map(([s, e]) => sliceBatch(batch, model.head, s, e));
    const cols = model.head === 'masked-lm' ? model.config.vocab_size : model.numLabels;
    const empty: Prediction = { logits: new Float32Array(0), shape: [0, cols] };
    const predictHere = (b: Batch): Prediction => (predictionRows(b, model.head) > 0 ? model.predict(b) : empty);
    // Shards 1.. go out first, then this thread predicts shard 0 while the workers run.
    const out = shards.slice(1).map(async (b, i): Promise<Prediction> => {
      if (predictionRows(b, model.head) === 0) return empty;
      const buffers = [b.inputIds.buffer, b.attentionMask.buffer, b.tokenTypeIds.buffer, b.labels.buffer] as ArrayBuffer[];
      // Copies for a retry on this thread: the transfer detaches the shard's arrays.
      const copy = sliceBatch(b, model.head, 0, b.size);
      try {
        const r = await this.workers[i]!.request({ type: 'predict', batch: b }, buffers);
        if (r.type !== 'prediction') throw new Error(`internal: the worker answered ${r.type} to predict`);
        return { logits: r.logits, shape: r.shape };
      } catch (e) {
        this.fail(e);
        return predictHere(copy);
      }
    });
    const first = predictHere(shards[0]!);
    return concatPredictions([first, ...(await Promise.all(out))], cols);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private fail(e: unknown): void {
    if (this.failure) return;
    this.failure = e instanceof Error ? e.message : String(e);
    this.onFallback(`inference goes on with one thread: an inference worker failed (${this.failure})`);
  }
}
