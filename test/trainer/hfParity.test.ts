/**
 * Our checkpoints load in Hugging Face's BERT with the same logits: fresh ones and ones trained for a few steps
 * through the engine, with both heads (sequence classification, masked LM), on a single sentence, a sentence pair
 * and a padded batch. The reference is test/trainer/torch_bert.py (modeling_bert written out in PyTorch with HF's
 * module names, loaded with `load_state_dict(strict=True)`; Debian's python3-torch runs it), and transformers
 * itself where it is installed. Outside CI a missing PyTorch skips, saying why; in CI it fails (.ci/run installs it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tokenizerFromVocab } from '../../trainer/hf/tokenizer';
import { BertModel } from '../../trainer/model/bert';
import type { BertHead } from '../../common/modelConfig';
import { labelMapFrom } from '../../trainer/data/labels';
import { writeModelFolder } from '../../trainer/engine/checkpoint';
import { loadModelFolder } from '../../trainer/engine/inference';
import { sampleVocab } from '../../examples/sample/generate.mjs';
import { TINY_ARCH, makeWorkspace } from './engineFixtures';
import { runEngine, wasmBackend } from './engineRunner';
import { compareInPython, parityCases, pythonWith, requirePython, skipUnless } from './hfParityCases';
import type { FoundPython, ParityCase, Reference } from './hfParityCases';

const withTorch = pythonWith('torch');
const withTransformers = pythonWith('transformers, torch');
const STEPS = 3;

/** Folders the checkpoints were written to, removed at the end. */
const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

before(async () => {
  // The backend the trainer runs on by default under Node (and the one runEngine trains with).
  await wasmBackend();
});

interface Checkpoint {
  dir: string;
  cases: ParityCase[];
}

/** A large initializer range makes the logits far from zero, so that a layout mistake could not hide. */
async function freshCheckpoint(head: BertHead): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-parity-'));
  made.push(dir);
  const tokenizer = tokenizerFromVocab(sampleVocab());
  const config = {
    vocab_size: tokenizer.vocabSize,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 64,
    max_position_embeddings: 64,
    type_vocab_size: 2,
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    layer_norm_eps: 1e-12,
    initializer_range: 0.2,
    pad_token_id: tokenizer.padId,
    hidden_act: 'gelu' as const,
  };
  const model = BertModel.create(config, head, { numLabels: 3, seed: 3 });
  const labels = head === 'masked-lm' ? undefined : labelMapFrom(['bad', 'meh', 'good']);
  await writeModelFolder(dir, model, labels, tokenizer);
  model.dispose();
  return dir;
}

/** Trains a few steps through the engine (dropout, AdamW, the checkpoint writer) and returns its last checkpoint. */
async function trainedCheckpoint(task: 'text-classification' | 'masked-lm'): Promise<string> {
  const ws = makeWorkspace({
    task,
    model: { architecture: { ...TINY_ARCH, initializer_range: 0.2 } },
    training: { max_steps: STEPS, learning_rate: 1e-2, save_strategy: 'no' },
  });
  made.push(ws.dir);
  const run = await runEngine(ws.configFile);
  assert.equal(run.done.status, 'completed', JSON.stringify(run.done));
  const dir = path.join(run.runDir, `checkpoint-${STEPS}`);
  const state = JSON.parse(readFileSync(path.join(dir, 'trainer_state.json'), 'utf8')) as { global_step: number };
  assert.equal(state.global_step, STEPS, 'the checkpoint holds the trained weights, not the initial ones');
  return dir;
}

/** Each checkpoint is written once and our logits computed once, then compared with every reference. */
const checkpoints = new Map<string, Promise<Checkpoint>>();
function checkpoint(kind: string, make: () => Promise<string>): Promise<Checkpoint> {
  let p = checkpoints.get(kind);
  if (!p) {
    p = make().then(async (dir) => {
      const loaded = await loadModelFolder(dir);
      try {
        return { dir, cases: parityCases(loaded) };
      } finally {
        loaded.model.dispose();
      }
    });
    checkpoints.set(kind, p);
  }
  return p;
}

const KINDS: [string, () => Promise<string>][] = [
  ['a fresh sequence classifier', () => freshCheckpoint('sequence-classification')],
  ['a fresh masked-LM model', () => freshCheckpoint('masked-lm')],
  [`a sequence classifier trained ${STEPS} steps by the engine`, () => trainedCheckpoint('text-classification')],
  [`a masked-LM model trained ${STEPS} steps by the engine`, () => trainedCheckpoint('masked-lm')],
];

async function compare(
  kind: string,
  make: () => Promise<string>,
  found: FoundPython,
  reference: Reference,
  what: string,
) {
  const python = requirePython(found, what);
  const { dir, cases } = await checkpoint(kind, make);
  const largest = Math.max(...cases.flatMap((c) => c.logits.flat().map(Math.abs)));
  assert.ok(largest > 0.5, `the logits are far enough from zero to show a mistake (largest |logit| ${largest})`);
  const r = compareInPython(python, dir, cases, reference);
  console.log(`# parity (${reference}, ${kind}):\n${r.output.trim().replace(/^/gm, '#   ')}`);
}

const torchSkip = skipUnless(withTorch, 'torch', { requiredInCi: true });
for (const [kind, make] of KINDS) {
  test(
    `${kind}: one sentence, a pair and a padded batch give modeling_bert's logits (torch_bert.py)`,
    { skip: torchSkip },
    () => compare(kind, make, withTorch, 'torch', 'torch'),
  );
}

// transformers is not a Debian package, so CI cannot install it: this one skips wherever it is missing.
const transformersSkip = skipUnless(withTransformers, 'transformers and torch', { requiredInCi: false });
test('every checkpoint above gives the same logits in transformers itself', { skip: transformersSkip }, async () => {
  for (const [kind, make] of KINDS)
    await compare(kind, make, withTransformers, 'transformers', 'transformers and torch');
});

test('a missing PyTorch skips outside CI, saying why, and fails in CI instead', () => {
  const none: FoundPython = { why: "/usr/bin/python3: ModuleNotFoundError: No module named 'torch'" };
  const outside = skipUnless(none, 'torch', { requiredInCi: true, env: {} });
  assert.match(String(outside), /python3 with torch is not available \(.*No module named 'torch'\); in CI, .* fails/);
  assert.equal(skipUnless(none, 'torch', { requiredInCi: true, env: { CI: 'true' } }), false, 'in CI it runs');
  assert.throws(() => requirePython(none, 'torch'), /CI is set, and no python3 can import torch .*python3-torch/);
  const found: FoundPython = { python: '/usr/bin/python3', why: '' };
  assert.equal(skipUnless(found, 'torch', { requiredInCi: true, env: {} }), false);
  assert.equal(requirePython(found, 'torch'), '/usr/bin/python3');
  // transformers is not something CI can install, so it stays a skip there, saying so.
  assert.match(
    String(skipUnless(none, 'transformers', { requiredInCi: false, env: { CI: '1' } })),
    /CI does not install/,
  );
});
