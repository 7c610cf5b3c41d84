/**
 * The parity harness shared by hfParity.test.ts: which Python can run a reference, the inputs our engine is
 * compared on (one sentence, a sentence pair, a padded batch; every position for masked LM), and the call into
 * hf_parity.py. The reference is written from modeling_bert.py alone (torch_bert.py), or is transformers itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { collate } from '../../trainer/data/collate';
import type { Batch } from '../../trainer/data/batch';
import type { LoadedModel } from '../../trainer/engine/inference';

export type Reference = 'torch' | 'transformers';

export interface FoundPython {
  python?: string;
  why: string;
}

/** Debian's interpreter first: CI installs python3-torch for it (.ci/run); a pyenv `python3` may lack torch. */
const PYTHONS = ['/usr/bin/python3', 'python3'];

/** The first interpreter that can import `modules`, or why none can. */
export function pythonWith(modules: string): FoundPython {
  const why: string[] = [];
  for (const python of PYTHONS) {
    const r = spawnSync(python, ['-c', `import ${modules}`], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { python, why: '' };
    why.push(`${python}: ${(r.stderr || String(r.error ?? '')).trim().split('\n').at(-1) ?? ''}`);
  }
  return { why: why.join('; ') };
}

/**
 * The `skip` option of a parity test. Where CI must have the reference (`requiredInCi`, PyTorch: .ci/run installs
 * it), a missing one in CI is not a reason to skip: the test runs and fails (`requirePython`), because a parity
 * check that silently stops running proves nothing.
 */
export function skipUnless(
  found: FoundPython,
  what: string,
  o: { requiredInCi: boolean; env?: NodeJS.ProcessEnv },
): string | false {
  if (found.python || (o.requiredInCi && !!(o.env ?? process.env).CI)) return false;
  const ci = o.requiredInCi ? 'in CI, which installs it (.ci/run), this fails instead' : 'CI does not install it';
  return `python3 with ${what} is not available (${found.why}); ${ci}`;
}

/** The interpreter to run; without one this is reached only where skipUnless did not skip, that is in CI. */
export function requirePython(found: FoundPython, what: string): string {
  if (found.python) return found.python;
  assert.fail(`CI is set, and no python3 can import ${what} (${found.why}): .ci/run installs python3-torch`);
}

/** One comparison: a batch and our logits for it, in the layout hf_parity.py reads. */
export interface ParityCase {
  name: string;
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
  logits: number[][];
  /** Masked LM only: the [example, position] of each logits row. */
  positions?: [number, number][];
}

type Input = readonly [text: string, pair?: string];

const rows = (a: Int32Array | Float32Array, width: number): number[][] =>
  Array.from({ length: a.length / width }, (_, i) => [...a.subarray(i * width, (i + 1) * width)]);

function batchOf(m: LoadedModel, inputs: readonly Input[]): Batch {
  const encoded = inputs.map(([text, pair]) => ({ ...m.tokenizer.encode(text, pair, m.maxLength), label: 0 }));
  const task = m.model.head === 'masked-lm' ? 'masked-lm' : 'text-classification';
  const batch = collate(encoded, m.tokenizer.padId, task);
  if (task === 'text-classification') return batch;
  // Score every position, padding included: HF computes logits there too, so they must agree as well.
  return { ...batch, labels: batch.inputIds.slice() };
}

async function caseOf(m: LoadedModel, name: string, inputs: readonly Input[]): Promise<ParityCase> {
  const batch = batchOf(m, inputs);
  const { logits, shape } = await m.model.predict(batch);
  const c: ParityCase = {
    name,
    inputIds: rows(batch.inputIds, batch.seqLen),
    attentionMask: rows(batch.attentionMask, batch.seqLen),
    tokenTypeIds: rows(batch.tokenTypeIds, batch.seqLen),
    logits: rows(logits, shape[1]),
  };
  if (m.model.head === 'masked-lm') {
    c.positions = Array.from({ length: batch.size * batch.seqLen }, (_, i) => [
      Math.floor(i / batch.seqLen),
      i % batch.seqLen,
    ]);
  }
  return c;
}

const PADDED_BATCH: readonly Input[] = [
  ['the lamp is great!'],
  ['overall, this jacket looks cheap, i think. the phone is solid and the lamp is great.'],
  ['the phone is', 'so far the phone feels solid.'],
  ['cheap.'],
];

/**
 * A single sentence, a sentence pair (token_type_ids 1; RoBERTa's `</s></s>` between the texts, all segment 0),
 * and a batch padded to its longest row.
 */
export async function parityCases(m: LoadedModel, o: { segments?: boolean } = {}): Promise<ParityCase[]> {
  const cases = [
    await caseOf(m, 'single sentence', [['the lamp is great!']]),
    await caseOf(m, 'sentence pair', [['the phone is', 'so far the phone feels solid.']]),
    await caseOf(m, 'padded batch', PADDED_BATCH),
  ];
  const [, pair, padded] = cases;
  // The cases test what they are named for only if the tokenizer gave them that shape.
  if (o.segments ?? true) assert.ok(pair!.tokenTypeIds[0]!.includes(1), 'the pair case has second-segment token types');
  else {
    const ids = pair!.inputIds[0]!;
    const sep = m.tokenizer.sepId;
    assert.ok(
      ids.some((id, i) => id === sep && ids[i + 1] === sep),
      'the pair case has two separators between the texts',
    );
    assert.ok(!pair!.tokenTypeIds[0]!.includes(1), 'and no second segment');
  }
  assert.ok(
    padded!.attentionMask.some((r) => r.includes(0)),
    'the padded batch has padding',
  );
  return cases;
}

export interface ParityResult {
  maxAbsDiff: number;
  output: string;
}

/** Runs hf_parity.py on a checkpoint and our cases; fails with its output when it does not agree. */
export function compareInPython(
  python: string,
  dir: string,
  cases: ParityCase[],
  reference: Reference,
  tolerance = 1e-4,
): ParityResult {
  const json = path.join(dir, `parity-${reference}.json`);
  writeFileSync(json, JSON.stringify(cases));
  const script = path.join(__dirname, 'hf_parity.py');
  const args = [script, dir, json, '--tolerance', String(tolerance), '--reference', reference];
  const r = spawnSync(python, args, { encoding: 'utf8', timeout: 120_000 });
  const output = `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}`;
  assert.equal(r.status, 0, output);
  const m = /^max_abs_diff=(\S+)/m.exec(r.stdout);
  assert.ok(m, output);
  for (const c of cases) assert.match(r.stdout, new RegExp(`^case ${c.name}: `, 'm'), `${c.name} was compared`);
  const maxAbsDiff = Number(m[1]);
  assert.ok(maxAbsDiff <= tolerance, output);
  return { maxAbsDiff, output };
}
