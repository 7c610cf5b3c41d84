/**
 * How a run walks through its data: batches per epoch, optimiser steps per epoch, total steps, and which
 * micro-batches make up a given global step. Everything is a pure function of (seed, epoch, step), which is
 * why a checkpoint's step number is all that resume needs to continue with the very same batches.
 */
import { deriveSeed, mulberry32 } from '../../common/random';
import { lengthBucketedBatches, shuffledBatches } from '../data/bucketing';

export interface PlanOptions {
  examples: number;
  batchSize: number;
  accumulation: number;
  epochs: number;
  maxSteps: number;
  seed: number;
  groupByLength: boolean;
  /** Token counts per example, for group_by_length. */
  lengths: readonly number[];
}

export class DataPlan {
  readonly batchesPerEpoch: number;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  private cache: { epoch: number; batches: number[][] } | undefined;

  constructor(private readonly o: PlanOptions) {
    this.batchesPerEpoch = Math.ceil(o.examples / o.batchSize);
    this.stepsPerEpoch = Math.max(1, Math.ceil(this.batchesPerEpoch / o.accumulation));
    this.totalSteps = o.maxSteps > 0 ? o.maxSteps : Math.max(1, Math.ceil(o.epochs * this.stepsPerEpoch));
  }

  epochOf(step: number): number {
    return Math.floor(step / this.stepsPerEpoch);
  }

  /** The example indices of each micro-batch of the 0-based optimiser step `step`. */
  microBatches(step: number): number[][] {
    const epoch = this.epochOf(step);
    if (this.cache?.epoch !== epoch) {
      const rng = mulberry32(deriveSeed(this.o.seed, 0xda7a, epoch));
      const batches = this.o.groupByLength
        ? lengthBucketedBatches(this.o.lengths, this.o.batchSize, rng)
        : shuffledBatches(this.o.examples, this.o.batchSize, rng);
      this.cache = { epoch, batches };
    }
    const pos = step % this.stepsPerEpoch;
    return this.cache.batches.slice(pos * this.o.accumulation, (pos + 1) * this.o.accumulation);
  }

  /** True when `completed` steps end an epoch. */
  endsEpoch(completed: number): boolean {
    return completed % this.stepsPerEpoch === 0;
  }
}
