/**
 * AdamW with decoupled weight decay and bias correction, step for step as torch.optim.AdamW (the optimiser HF's
 * Trainer uses). Each parameter has its own peak rate and weight decay (see paramGroups.ts); state (exp_avg,
 * exp_avg_sq) is created on a parameter's first gradient, so frozen parameters never get any.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamSetting } from './paramGroups';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
}

export interface AdamWStateEntry {
  expAvg: tf.Variable;
  expAvgSq: tf.Variable;
}

/** Plain-array form of the state, for checkpoints. */
export interface AdamWSnapshot {
  step: number;
  /** name → {exp_avg, exp_avg_sq, shape}. */
  entries: Map<string, { shape: number[]; expAvg: Float32Array; expAvgSq: Float32Array }>;
}

/** A non-trainable variable from a fresh tensor; the tensor is disposed (the variable keeps its own reference). */
function ownedVariable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init, false);
  init.dispose();
  return v;
}

export class AdamW {
  /** Number of updates done so far (torch's state['step']). */
  step = 0;
  readonly state = new Map<string, AdamWStateEntry>();

  constructor(
    private readonly params: ReadonlyMap<string, tf.Variable>,
    private readonly settings: ReadonlyMap<string, ParamSetting>,
    private readonly opts: AdamWOptions,
  ) {}

  /**
   * One update with `lrFactor` × each parameter's peak rate. Gradients are read, not disposed (the caller owns
   * them). Parameters without a gradient are left alone.
   */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lrFactor: number): void {
    this.step += 1;
    const { beta1, beta2, epsilon } = this.opts;
    const bc1 = 1 - beta1 ** this.step;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.step);
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      const s = this.settings.get(name);
      if (!p || !s) throw new Error(`internal: gradient for unknown or untrainable parameter ${name}`);
      const lr = s.lr * lrFactor;
      let st = this.state.get(name);
      if (!st) {
        st = { expAvg: ownedVariable(tf.zerosLike(p)), expAvgSq: ownedVariable(tf.zerosLike(p)) };
        this.state.set(name, st);
      }
      const { expAvg, expAvgSq } = st;
      tf.tidy(() => {
        const m = tf.add(tf.mul(expAvg, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(expAvgSq, beta2), tf.mul(tf.square(g), 1 - beta2));
        expAvg.assign(m);
        expAvgSq.assign(v);
        const decayed = s.weightDecay > 0 && lr > 0 ? tf.mul(p, 1 - lr * s.weightDecay) : p;
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), epsilon);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), lr / bc1)));
      });
    }
  }

  /** The state as plain arrays, read asynchronously (a GPU backend has no synchronous read in Node). */
  async snapshot(): Promise<AdamWSnapshot> {
    const entries: AdamWSnapshot['entries'] = new Map();
    const step = this.step;
    for (const [name, st] of this.state) {
      const [m, v] = await Promise.all([st.expAvg.data(), st.expAvgSq.data()]);
      entries.set(name, {
        shape: [...st.expAvg.shape],
        expAvg: new Float32Array(m as Float32Array),
        expAvgSq: new Float32Array(v as Float32Array),
      });
    }
    return { step, entries };
  }

  restore(snap: AdamWSnapshot): void {
    this.disposeState();
    this.step = snap.step;
    for (const [name, e] of snap.entries) {
      const p = this.params.get(name);
      if (!p) throw new Error(`optimizer state for ${name}, which the model does not have`);
      if (!this.settings.has(name)) continue; // frozen now: its state is dropped, as torch would never see it
      if (p.size !== e.expAvg.length)
        throw new Error(`optimizer state for ${name} has ${e.expAvg.length} values, the parameter ${p.size}`);
      this.state.set(name, {
        expAvg: ownedVariable(tf.tensor(e.expAvg, p.shape)),
        expAvgSq: ownedVariable(tf.tensor(e.expAvgSq, p.shape)),
      });
    }
  }

  private disposeState(): void {
    for (const st of this.state.values()) {
      st.expAvg.dispose();
      st.expAvgSq.dispose();
    }
    this.state.clear();
  }

  dispose(): void {
    this.disposeState();
  }
}
