/**
 * The memory check as a diagnostic, for a config whose model shape is known (an architecture block, a local
 * model folder, a well-known Hub model): on `training.per_device_train_batch_size`, with the largest batch that
 * fits, and on `data.max_length`, with the longest length that fits. The same estimate and verdict as the
 * trainer's check before the first step (common/memoryCheck.ts), against the ceiling of the config's `backend`.
 * The editor cannot know the backend `auto` will pick: it assumes WebAssembly (what a machine without a GPU or
 * native TensorFlow gets) and says so.
 */
import type { BertShapeConfig } from '../bertParams';
import { isFrozen } from '../freeze';
import { checkMemory, findings, wasmCeilings } from '../memoryCheck';
import type { Ceiling, MemoryVerdict } from '../memoryCheck';
import { formatBytes, shapeEstimator } from '../memoryEstimate';
import type { TrainingShape } from '../memoryEstimate';
import type { ConfigDiagnostic, ConfigFix } from './diagnostic';
import { headFor } from './fileChecks';
import { diag } from './makeDiagnostic';
import type { FineTuneConfig } from './schema';
import type { ConfigDocument, KeyPath } from './yamlDoc';

export type ModelShape = BertShapeConfig & { num_attention_heads: number };

export interface MemoryAssumptions {
  /** Threads the trainer splits a batch across on the CPU backends (FINETUNE_THREADS, or every core up to 4). */
  threads: number;
  /** The machine's total memory: the ceiling of the native and JavaScript backends. */
  machineBytes?: number;
}

const BATCH: KeyPath = ['training', 'per_device_train_batch_size'];
const LENGTH: KeyPath = ['data', 'max_length'];
const AUTO_NOTE =
  ' (Assuming the WebAssembly backend, which `backend: auto` picks on a machine without a GPU or native ' +
  'TensorFlow; set `backend` to say which one this machine uses.)';

/** The ceilings of the config's backend, or null where the editor cannot know them (a GPU's memory). */
function ceilingsFor(c: FineTuneConfig, a: MemoryAssumptions): { ceilings: Ceiling[]; threads: number } | null {
  if (c.backend === 'wasm' || c.backend === 'auto') return { ceilings: wasmCeilings(a.threads), threads: a.threads };
  if ((c.backend === 'node' || c.backend === 'cpu') && a.machineBytes) {
    const name = `the ${formatBytes(a.machineBytes)} of memory this machine has`;
    const threads = c.backend === 'cpu' ? a.threads : 1;
    return { ceilings: [{ kind: 'machine', bytes: a.machineBytes, name }], threads };
  }
  return null;
}

export function memoryDiagnostics(
  c: FineTuneConfig,
  doc: ConfigDocument,
  model: ModelShape,
  a: MemoryAssumptions,
): ConfigDiagnostic[] {
  const backend = ceilingsFor(c, a);
  if (!backend) return [];
  const shape: TrainingShape = {
    config: model,
    head: headFor(c.task),
    numLabels: 2,
    batchSize: c.training.per_device_train_batch_size,
    seqLength: c.data.max_length,
    trainable: (name) => !isFrozen(name, c.freeze, c.unfreeze),
    threads: backend.threads,
    accumulation: c.training.gradient_accumulation_steps,
    ...(c.task === 'masked-lm' ? { mlmProbability: c.data.mlm_probability } : {}),
  };
  const hint = c.backend === 'auto' || c.backend === 'wasm' ? 'A GPU (backend: webgpu) has no 4 GiB ceiling.' : '';
  const at = shapeEstimator(shape);
  const v = checkMemory({
    estimateAt: (batchSize) => at(batchSize, shape.seqLength),
    batchSize: shape.batchSize,
    maxLength: shape.seqLength,
    accumulation: c.training.gradient_accumulation_steps,
    ceilings: backend.ceilings,
    ...(hint ? { backendHint: hint } : {}),
  });
  if (v.level === 'fits') return [];
  const severity =
    v.level === 'near' ? (c.backend === 'auto' ? 'info' : 'warning') : c.backend === 'auto' ? 'warning' : 'error';
  const note = c.backend === 'auto' ? AUTO_NOTE : '';
  const out = [batchDiagnostic(v, severity, note, doc)];
  if (v.level === 'over' && doc.pair(LENGTH))
    out.push(lengthDiagnostic(v, shape, at, backend.ceilings, severity, note, doc));
  return out;
}

function batchDiagnostic(
  v: MemoryVerdict,
  severity: ConfigDiagnostic['severity'],
  note: string,
  doc: ConfigDocument,
): ConfigDiagnostic {
  const n = v.largestBatch ?? 0;
  const fixes: ConfigFix[] =
    n > 0 && doc.pair(BATCH)
      ? [
          {
            title: `Set per_device_train_batch_size to ${n}`,
            edits: [{ range: doc.valueRange(BATCH), newText: String(n) }],
            preferred: true,
          },
        ]
      : [];
  const code = v.level === 'over' ? 'memory-exceeds-backend' : 'memory-near-limit';
  return diag(severity, code, `${v.message} ${v.fix}${note}`, BATCH, doc, fixes, 'value');
}

type Estimator = ReturnType<typeof shapeEstimator>;

/** The longest max_length whose step fits at this batch size, or 0. */
function longestFitting(shape: TrainingShape, at: Estimator, ceilings: readonly Ceiling[]): number {
  const fits = (s: number) => findings(at(shape.batchSize, s), ceilings).every((f) => f.ceiling.soft || f.share <= 1);
  let lo = 0;
  let hi = shape.seqLength - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function lengthDiagnostic(
  v: MemoryVerdict,
  shape: TrainingShape,
  at: Estimator,
  ceilings: readonly Ceiling[],
  severity: ConfigDiagnostic['severity'],
  note: string,
  doc: ConfigDocument,
): ConfigDiagnostic {
  const s = longestFitting(shape, at, ceilings);
  const longest =
    s > 0
      ? ` At per_device_train_batch_size ${shape.batchSize}, max_length ${s} is the longest that fits.`
      : ` No max_length fits at per_device_train_batch_size ${shape.batchSize}.`;
  const fixes: ConfigFix[] =
    s > 0 ? [{ title: `Set max_length to ${s}`, edits: [{ range: doc.valueRange(LENGTH), newText: String(s) }] }] : [];
  return diag(severity, 'memory-exceeds-backend', `${v.message}${longest}${note}`, LENGTH, doc, fixes, 'value');
}
