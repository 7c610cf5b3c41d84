/**
 * Data parallelism on the CPU. The WebAssembly backend runs one thread under Node (backend.ts), so one training
 * run would use one core of many. Replicas split each batch by examples: worker threads, each with its own
 * single-threaded backend and a copy of the model, compute their shards while this thread computes the first.
 * - Prediction: the shards' logits, concatenated; bit-identical to one thread (shards keep the batch's padded
 *   length, and every example is computed alone).
 * - Training: each shard's loss and gradients, combined by the shard's share of the loss's terms (examples, or
 *   masked positions for masked-LM), which is the whole batch's mean loss and its gradient. Dropout draws per
 *   example (ops.ts, DropoutRng), so the shards drop what one thread would; the result differs from one thread's
 *   only by float rounding. The optimizer runs here, and `sync` copies the new weights to the workers.
 *
 * Replicas that cannot start, or a worker that fails, cost speed, never the run: the work then runs on this
 * thread alone, and `onFallback` says why, once.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { backendForWorkers } from '../backend';
import type { Batch } from '../data/batch';
import type { BertModel, Prediction } from '../model/bert';
import type { BertHead } from '../../common/modelConfig';
import type { FromWorker, Tensors, ToWorker } from './messages';
import { concatPredictions, predictionRows, shardRanges, sliceBatch } from './shard';
import { trainerThreads } from './threads';

/**
 * The worker: the bundle's sibling in dist/, or, when this runs from source through tsx (tests, benchmarks,
 * scripts), the TypeScript source behind tsx's require hook (a worker does not inherit the parent's loader).
 */
function startWorker(): Worker {
  const ts = path.join(__dirname, 'replicaWorker.ts');
  if (__filename.endsWith('.ts') && existsSync(ts))
    return new Worker(`require('tsx/cjs'); require(${JSON.stringify(ts)});`, { eval: true });
  return new Worker(path.join(__dirname, 'replicaWorker.js'));
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Pending = { resolve: (m: FromWorker) => void; reject: (e: Error) => void };

class ReplicaWorker {
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
    worker.on('exit', (code) => fail(new Error(`the worker thread exited (code ${code})`)));
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

/** One shard's loss and gradients: tensors computed on this thread, or arrays a worker sent. */
interface ShardGrads {
  loss: number;
  /** The gradient of a parameter as a tensor: a worker's is made here, inside the caller's tidy. */
  grad(name: string): tf.Tensor | undefined;
  /** Frees this thread's tensor of that gradient once it has been summed. */
  release(name: string): void;
}

function localGrads(r: { loss: number; grads: Map<string, tf.Tensor> }): ShardGrads {
  return { loss: r.loss, grad: (n) => r.grads.get(n), release: (n) => r.grads.get(n)?.dispose() };
}

function remoteGrads(r: Tensors & { loss: number }): ShardGrads {
  const at = new Map(r.names.map((n, j) => [n, j]));
  return {
    loss: r.loss,
    grad: (n) => {
      const j = at.get(n);
      return j === undefined ? undefined : tf.tensor(r.data[j]!, r.shapes[j]!, 'float32');
    },
    release: () => {},
  };
}

function batchBuffers(b: Batch): ArrayBuffer[] {
  const own = [b.inputIds.buffer, b.attentionMask.buffer, b.tokenTypeIds.buffer, b.labels.buffer];
  return (b.targets ? [...own, b.targets.buffer] : own) as ArrayBuffer[];
}

export class Replicas {
  private failure: string | null = null;

  private constructor(
    private readonly workers: ReplicaWorker[],
    private readonly onFallback: (why: string) => void,
  ) {}

  /**
   * Starts `threads - 1` workers for models shaped like `model` (their weights come with `sync`), on this thread's
   * backend. Null when one thread is all there is to use, or the backend is not one that workers help (native
   * TensorFlow uses every core already); replicas whose workers cannot start report that through `onFallback`
   * and are null too.
   */
  static async start(
    model: BertModel,
    o: { threads?: number; onFallback?: (why: string) => void } = {},
  ): Promise<Replicas | null> {
    const threads = o.threads ?? trainerThreads();
    const backend = backendForWorkers();
    const onFallback = o.onFallback ?? (() => {});
    if (threads <= 1 || !backend) return null;
    const workers: ReplicaWorker[] = [];
    try {
      for (let i = 1; i < threads; i++) workers.push(new ReplicaWorker(startWorker()));
      const init = {
        type: 'init',
        preference: backend.preference,
        ...(backend.opts.wasmDir ? { wasmDir: backend.opts.wasmDir } : {}),
        config: model.config,
        head: model.head,
        numLabels: model.numLabels,
      } as const;
      await Promise.all(workers.map((w) => w.request(init)));
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      onFallback(
        `the trainer runs on one thread: its worker threads did not start (${e instanceof Error ? e.message : String(e)})`,
      );
      return null;
    }
    return new Replicas(workers, onFallback);
  }

  /** Threads that share a batch: the workers and this one (1 once a worker has failed). */
  get threads(): number {
    return this.failure ? 1 : this.workers.length + 1;
  }

  /**
   * Copies the model's weights to every worker: all of them, or those named (the trainable ones, after an
   * optimizer step). Call it whenever the weights have changed since the workers last got them.
   */
  async sync(model: BertModel, names: readonly string[] = [...model.params.keys()]): Promise<void> {
    if (this.failure) return;
    const vars = names.map((n) => model.params.get(n)!);
    const t: Tensors = {
      names: [...names],
      shapes: vars.map((v) => v.shape),
      data: (await Promise.all(vars.map((v) => v.data()))) as Float32Array[],
    };
    try {
      await Promise.all(this.workers.map((w) => w.request({ type: 'weights', ...t })));
    } catch (e) {
      this.fail(e);
    }
  }

  /** The model's prediction for a batch, as model.predict(batch) gives it. */
  async predict(model: BertModel, batch: Batch): Promise<Prediction> {
    const shards = this.shards(model, batch);
    if (shards.length <= 1) return model.predict(batch);
    const cols = model.head === 'masked-lm' ? model.config.vocab_size : model.numLabels;
    const empty: Prediction = { logits: new Float32Array(0), shape: [0, cols] };
    const here = async (b: Batch): Promise<Prediction> =>
      predictionRows(b, model.head) > 0 ? model.predict(b) : empty;
    // Shards 1.. go out first; this thread computes shard 0 while the workers run.
    const out = shards.slice(1).map(async ({ batch: b }, i): Promise<Prediction> => {
      if (predictionRows(b, model.head) === 0) return empty;
      return this.onWorker(
        i,
        b,
        model.head,
        { type: 'predict', batch: b },
        (r) => {
          if (r.type !== 'prediction') throw new Error(`internal: a worker answered ${r.type} to predict`);
          return { logits: r.logits, shape: r.shape };
        },
        here,
      );
    });
    const first = await here(shards[0]!.batch);
    return concatPredictions([first, ...(await Promise.all(out))], cols);
  }

  /**
   * model.lossAndGrads(batch, { training: true, seed }, trainable), computed on every thread. The workers must
   * hold the model's current weights (`sync`). The caller owns the returned gradients.
   */
  async lossAndGrads(
    model: BertModel,
    batch: Batch,
    seed: number,
    trainable: (name: string) => boolean,
  ): Promise<{ loss: number; grads: Map<string, tf.Tensor> }> {
    const total = predictionRows(batch, model.head);
    const shards = this.shards(model, batch).filter((s) => predictionRows(s.batch, model.head) > 0);
    if (shards.length <= 1 || total === 0) return model.lossAndGrads(batch, { training: true, seed }, trainable);
    // The batch's mean loss is the shards' means weighted by their share of its terms; so is its gradient.
    // (Counted now: sending a shard detaches its arrays.)
    const weights = shards.map((s) => predictionRows(s.batch, model.head) / total);
    const names = model.parameterNames().filter(trainable);
    const here = async (s: { batch: Batch; offset: number }): Promise<ShardGrads> =>
      localGrads(await model.lossAndGrads(s.batch, { training: true, seed, exampleOffset: s.offset }, trainable));
    const out = shards.slice(1).map((s, i): Promise<ShardGrads> =>
      this.onWorker(
        i,
        s.batch,
        model.head,
        { type: 'grads', batch: s.batch, seed, exampleOffset: s.offset, trainable: names },
        (r) => {
          if (r.type !== 'grads') throw new Error(`internal: a worker answered ${r.type} to grads`);
          return remoteGrads(r);
        },
        (copy) => here({ batch: copy, offset: s.offset }),
      ),
    );
    const parts = [await here(shards[0]!), ...(await Promise.all(out))];
    // One parameter at a time, so that the WASM heap holds one parameter's shard gradients at once, not every
    // worker's whole gradient (that is the size of the model per worker; the workers' arrays stay in JS memory).
    const grads = new Map<string, tf.Tensor>();
    for (const n of names) {
      grads.set(
        n,
        tf.tidy(
          () =>
            parts.reduce<tf.Tensor | null>((acc, p, k) => {
              const g = p.grad(n);
              if (!g) return acc;
              const scaled = tf.mul(g, weights[k]!);
              return acc ? tf.add(acc, scaled) : scaled;
            }, null) ?? tf.zeros(model.params.get(n)!.shape),
        ),
      );
      for (const p of parts) p.release(n);
    }
    return { loss: parts.reduce((sum, p, k) => sum + p.loss * weights[k]!, 0), grads };
  }

  /**
   * Worker i's answer to a message about shard `b`, read by `read`; if the worker fails, this thread's answer
   * (`here`), on a copy of the shard made before the message's transfer detached b's arrays.
   */
  private async onWorker<T>(
    i: number,
    b: Batch,
    head: BertHead,
    message: DistributiveOmit<ToWorker, 'id'>,
    read: (r: FromWorker) => T,
    here: (copy: Batch) => T | Promise<T>,
  ): Promise<T> {
    const copy = sliceBatch(b, head, 0, b.size);
    try {
      return read(await this.workers[i]!.request(message, batchBuffers(b)));
    } catch (e) {
      this.fail(e);
      return here(copy);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private shards(model: BertModel, batch: Batch): { batch: Batch; offset: number }[] {
    const ranges = this.failure ? [] : shardRanges(batch.size, this.workers.length + 1);
    return ranges.map(([s, e]) => ({ batch: sliceBatch(batch, model.head, s, e), offset: s }));
  }

  private fail(e: unknown): void {
    if (this.failure) return;
    this.failure = e instanceof Error ? e.message : String(e);
    this.onFallback(`the trainer goes on with one thread: a worker thread failed (${this.failure})`);
  }
}
