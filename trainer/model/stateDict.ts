/**
 * Conversion between the in-memory parameters and a Hugging Face state dict (PyTorch layout). Only here are
 * Linear weights transposed ([in, out] in memory, [out, in] on disk).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BertHead, ParamSpec } from '../../common/modelConfig';
import { sizeOf } from '../../common/modelConfig';
import type { Family } from '../../common/modelFamilies';

export interface StateDictEntry {
  shape: number[];
  data: Float32Array;
}
export type StateDict = Map<string, StateDictEntry>;

export interface LoadReport {
  /** Parameters whose values came from the state dict. */
  loaded: string[];
  /** Head parameters absent from the state dict, left at their fresh initialisation (HF's "newly initialized"). */
  newlyInitialized: string[];
  /** Keys of the state dict that were dropped: another head's weights, buffers, the tied decoder. */
  ignored: string[];
}

/** Row-major transpose of a [rows, cols] matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c]!;
  }
  return out;
}

export function diskShape(spec: ParamSpec): number[] {
  const s = [...spec.shape];
  return spec.kind === 'linear-weight' ? [s[1]!, s[0]!] : s;
}

/** Reads every parameter asynchronously (a GPU backend has no synchronous read in Node), one at a time. */
export async function toStateDictFrom(
  params: Map<string, tf.Variable>,
  specs: ReadonlyMap<string, ParamSpec>,
): Promise<StateDict> {
  const out: StateDict = new Map();
  for (const [name, v] of params) {
    const spec = specs.get(name);
    if (!spec) continue;
    // A copy: on the CPU backends data() may hand out the backend's own array.
    const data = new Float32Array((await v.data()) as Float32Array);
    if (spec.kind === 'linear-weight') {
      const [i, o] = spec.shape as [number, number];
      out.set(name, { shape: [o, i], data: transpose2d(data, i, o) });
    } else {
      out.set(name, { shape: [...spec.shape], data });
    }
  }
  return out;
}

/** Parameters a fresh head may lack in a checkpoint without that being an error. */
function isHeadParam(name: string, family: Family, head: BertHead): boolean {
  return family.headPrefixes[head].some((p) => name.startsWith(p));
}

/**
 * Checkpoint keys that belong to other heads, buffers or tied copies, and are dropped silently (but reported):
 * a pre-trained masked-LM checkpoint fine-tuned as a classifier, a discriminator's RTD head, position_ids.
 */
function isDroppable(key: string, family: Family): boolean {
  return key === family.tied.decoderWeight || family.droppable.some((r) => r.test(key));
}

/**
 * Maps a checkpoint key to ours: a bare encoder's checkpoint (BertModel, RobertaModel, ...) has no `bert.` /
 * `roberta.` prefix, TF-converted ones name LayerNorm parameters gamma/beta, and MLM checkpoints may keep the
 * decoder bias under its second name (`cls.predictions.decoder.bias`, `lm_head.decoder.bias`).
 */
export function canonicalKey(key: string, known: ReadonlyMap<string, ParamSpec>, family: Family): string {
  let k = key.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
  const alias = family.tied.decoderBias;
  if (alias && k === alias[0]) k = alias[1];
  if (!known.has(k) && known.has(`${family.prefix}.${k}`)) k = `${family.prefix}.${k}`;
  return k;
}

/**
 * Validates every name and shape before writing anything, so a failed load leaves the model untouched.
 * Errors list all missing/unexpected/mis-shaped keys at once.
 */
export function loadStateDictInto(
  params: Map<string, tf.Variable>,
  specs: ReadonlyMap<string, ParamSpec>,
  family: Family,
  head: BertHead,
  sd: StateDict,
): LoadReport {
  const found = new Map<string, { key: string; entry: StateDictEntry }>();
  const unexpected: string[] = [];
  const ignored: string[] = [];
  const badShape: string[] = [];
  const badShapeNames = new Set<string>();
  for (const [key, entry] of sd) {
    const name = canonicalKey(key, specs, family);
    const spec = specs.get(name);
    if (!spec) {
      (isDroppable(key, family) ? ignored : unexpected).push(key);
      continue;
    }
    if (found.has(name)) {
      ignored.push(key); // e.g. both lm_head.bias and lm_head.decoder.bias: the same tensor.
      continue;
    }
    const want = diskShape(spec);
    if (
      entry.shape.length !== want.length ||
      entry.shape.some((d, i) => d !== want[i]) ||
      entry.data.length !== sizeOf(want)
    ) {
      badShape.push(`${key}: checkpoint [${entry.shape.join(', ')}], model [${want.join(', ')}]`);
      badShapeNames.add(name);
      continue;
    }
    found.set(name, { key, entry });
  }
  const missing: string[] = [];
  const newlyInitialized: string[] = [];
  for (const name of specs.keys()) {
    // A mis-shaped key is reported once, as a shape mismatch, not again as missing.
    if (found.has(name) || badShapeNames.has(name)) continue;
    (isHeadParam(name, family, head) ? newlyInitialized : missing).push(name);
  }
  const problems: string[] = [];
  if (missing.length) problems.push(`missing keys (${missing.length}): ${missing.join(', ')}`);
  if (unexpected.length) problems.push(`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
  if (badShape.length) problems.push(`shape mismatch (${badShape.length}): ${badShape.join('; ')}`);
  if (problems.length) throw new Error(`State dict does not match the model:\n  ${problems.join('\n  ')}`);

  const loaded: string[] = [];
  for (const [name, { entry }] of found) {
    const spec = specs.get(name)!;
    const v = params.get(name)!;
    const data = spec.kind === 'linear-weight' ? transpose2d(entry.data, entry.shape[0]!, entry.shape[1]!) : entry.data;
    tf.tidy(() => v.assign(tf.tensor(data, spec.shape as number[], 'float32')));
    loaded.push(name);
  }
  return { loaded, newlyInitialized, ignored };
}
