/**
 * The estimate (memoryEstimate.ts) against what the backend can hold, with the largest batch that fits: one
 * verdict for the trainer (which stops before the first step) and the language server (a diagnostic on
 * `per_device_train_batch_size`), so that both say the same thing in the same words. Pure: the caller says what
 * the ceilings are (the trainer from the backend it runs on, the server from the config's `backend`).
 */
import type { MemoryEstimate } from './memoryEstimate';
import { formatBytes, WASM_HEAP_BYTES } from './memoryEstimate';

/** Above this share of a ceiling a run gets a warning: a longer batch or a fragmented heap may not fit. */
export const NEAR_SHARE = 0.85;

/** Set to 1 to start a run the machine's free memory says will not fit (a warning instead of the refusal). */
export const IGNORE_FREE_MEMORY_ENV = 'FINETUNE_IGNORE_FREE_MEMORY';

export type CeilingKind =
  /** This thread's backend memory: a WASM heap, the GPU's memory budget. */
  | 'heap'
  /** One worker thread's WASM heap. */
  | 'worker-heap'
  /** The largest single GPU buffer. */
  | 'buffer'
  /** The machine's free memory, for the whole process. */
  | 'machine';

export interface Ceiling {
  kind: CeilingKind;
  bytes: number;
  /** What the limit is, to end "more than …": "the 4 GiB a WebAssembly thread can address". */
  name: string;
  /** Over it is only a warning (the free-memory check with IGNORE_FREE_MEMORY_ENV set). */
  soft?: boolean;
}

export interface MemoryFinding {
  ceiling: Ceiling;
  need: number;
  /** need / ceiling.bytes */
  share: number;
  /** For `buffer`: the tensor that needs it. */
  what?: string;
}

export interface MemoryVerdict {
  level: 'fits' | 'near' | 'over';
  estimate: MemoryEstimate;
  /** The finding closest to (or furthest over) its ceiling. */
  worst?: MemoryFinding;
  /** When over: the largest per_device_train_batch_size whose step fits every ceiling; 0 when not even 1 does. */
  largestBatch?: number;
  message?: string;
  fix?: string;
}

export interface MemoryQuestion {
  /** The estimate at a batch size (the rest of the run's shape fixed). */
  estimateAt: (batchSize: number) => MemoryEstimate;
  batchSize: number;
  maxLength: number;
  /** gradient_accumulation_steps, to keep the effective batch in the advice. */
  accumulation: number;
  ceilings: readonly Ceiling[];
  /** A last sentence for the fix: another backend, a GPU. */
  backendHint?: string;
}

/** Each ceiling with what the estimate needs of it. */
export function findings(e: MemoryEstimate, ceilings: readonly Ceiling[]): MemoryFinding[] {
  return ceilings.map((c) => {
    const need =
      c.kind === 'heap'
        ? e.total
        : c.kind === 'worker-heap'
          ? e.perWorker
          : c.kind === 'buffer'
            ? e.largestTensor.bytes
            : e.processTotal;
    return { ceiling: c, need, share: need / c.bytes, ...(c.kind === 'buffer' ? { what: e.largestTensor.what } : {}) };
  });
}

const fitsHard = (e: MemoryEstimate, ceilings: readonly Ceiling[]) =>
  findings(e, ceilings).every((f) => f.ceiling.soft || f.share <= 1);

/** The largest batch in [0, below) whose estimate fits every hard ceiling (the estimate grows with the batch). */
export function largestBatchThatFits(
  estimateAt: (b: number) => MemoryEstimate,
  below: number,
  ceilings: readonly Ceiling[],
): number {
  let lo = 0;
  let hi = below - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fitsHard(estimateAt(mid), ceilings)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function checkMemory(q: MemoryQuestion): MemoryVerdict {
  const estimate = q.estimateAt(q.batchSize);
  const all = findings(estimate, q.ceilings).filter((f) => f.need > 0);
  const worst = [...all].sort((a, b) => b.share - a.share)[0];
  if (!worst || worst.share <= NEAR_SHARE) return { level: 'fits', estimate, ...(worst ? { worst } : {}) };
  const over = all.filter((f) => f.share > 1 && !f.ceiling.soft);
  if (!over.length) {
    return { level: 'near', estimate, worst, message: nearMessage(q, worst), fix: softFix(worst) };
  }
  const hard = [...over].sort((a, b) => b.share - a.share)[0]!;
  const largestBatch = largestBatchThatFits(q.estimateAt, q.batchSize, q.ceilings);
  return {
    level: 'over',
    estimate,
    worst: hard,
    largestBatch,
    message: overMessage(q, hard),
    fix: overFix(q, hard, largestBatch),
  };
}

function sizes(q: MemoryQuestion): string {
  return `per_device_train_batch_size ${q.batchSize} and max_length ${q.maxLength}`;
}

function needs(f: MemoryFinding): string {
  if (f.ceiling.kind === 'buffer') return `${f.what} take ${formatBytes(f.need)}`;
  const where =
    f.ceiling.kind === 'machine'
      ? 'the training process'
      : f.ceiling.kind === 'worker-heap'
        ? 'each worker thread'
        : '';
  return `${where || 'one training step'} needs about ${formatBytes(f.need)}`;
}

function overMessage(q: MemoryQuestion, f: MemoryFinding): string {
  return `At ${sizes(q)}, ${needs(f)}: more than ${f.ceiling.name}.`;
}

function nearMessage(q: MemoryQuestion, f: MemoryFinding): string {
  const pct = Math.round(f.share * 100);
  const over = f.share > 1 ? 'more than' : `${pct}% of`;
  return `At ${sizes(q)}, ${needs(f)}: ${over} ${f.ceiling.name}, close to the limit.`;
}

function softFix(f: MemoryFinding): string {
  if (f.ceiling.kind === 'machine' && f.share > 1) {
    return `${IGNORE_FREE_MEMORY_ENV} is set, so the run starts anyway: close other programs, or expect swapping.`;
  }
  return 'A longer text or a checkpoint save may not fit: lower per_device_train_batch_size or max_length a little.';
}

function overFix(q: MemoryQuestion, f: MemoryFinding, largest: number): string {
  const effective = q.batchSize * q.accumulation;
  const lower =
    largest > 0
      ? `Set per_device_train_batch_size to ${largest} or less (with gradient_accumulation_steps ` +
        `${Math.ceil(effective / largest)} to keep the effective batch of ${effective}), or lower max_length.`
      : `Not even per_device_train_batch_size 1 fits at max_length ${q.maxLength}: lower max_length, freeze the ` +
        'lower layers (`freeze: [bert.embeddings, bert.encoder.layer.0]`), or use a smaller model.';
  const free =
    f.ceiling.kind === 'machine' ? ` Or close other programs; ${IGNORE_FREE_MEMORY_ENV}=1 starts the run anyway.` : '';
  return `${lower}${free}${q.backendHint ? ` ${q.backendHint}` : ''}`;
}

/** The WebAssembly ceilings: 4 GiB of heap per thread, for this thread and for each worker. */
export function wasmCeilings(threads: number): Ceiling[] {
  const name = `the ${formatBytes(WASM_HEAP_BYTES)} a WebAssembly thread can address`;
  const out: Ceiling[] = [{ kind: 'heap', bytes: WASM_HEAP_BYTES, name }];
  if (threads > 1) out.push({ kind: 'worker-heap', bytes: WASM_HEAP_BYTES, name });
  return out;
}

/** The machine's free memory as a ceiling for the whole process; soft when the user said to start anyway. */
export function freeMemoryCeiling(freeBytes: number, ignore: boolean): Ceiling {
  return {
    kind: 'machine',
    bytes: freeBytes,
    name: `the ${formatBytes(freeBytes)} of memory this machine has free`,
    ...(ignore ? { soft: true } : {}),
  };
}

/**
 * The threads a trainer splits a batch across on the CPU backends: `FINETUNE_THREADS` when set, else every core
 * up to 4 (beyond that each shard gets too few examples to keep a core busy, and every worker holds a copy of
 * the weights). The trainer starts that many; the language server assumes as many.
 */
export function threadsFor(envValue: string | undefined, cores: number): number {
  if (envValue !== undefined && envValue.trim() !== '') {
    const n = Number(envValue);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  return Math.max(1, Math.min(cores, 4));
}
