/**
 * Our RoBERTa, XLM-RoBERTa, DistilBERT and ELECTRA checkpoints give the logits of an independent PyTorch
 * implementation of Hugging Face's modules (test/trainer/torch_families.py, written from modeling_roberta.py,
 * modeling_distilbert.py and modeling_electra.py, loaded with `load_state_dict(strict=True)`, so our parameter
 * names, shapes and tied weights are exactly HF's): fresh checkpoints of both heads, each activation, ELECTRA with
 * embedding_size != hidden_size, and two trained through the engine from `model.architecture.model_type`. Inputs:
 * one sentence, a pair (RoBERTa's <s> A </s></s> B </s>) and a padded batch (RoBERTa's positions skip padding).
 * Outside CI a missing PyTorch skips, saying why; in CI it fails (.ci/run installs python3-torch).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTokenizer, tokenizerFromVocab } from '../../trainer/hf/tokenizer';
import type { Tokenizer } from '../../trainer/hf/tokenizer';
import { BertModel } from '../../trainer/model/bert';
import type { BertConfig, BertHead } from '../../common/modelConfig';
import type { Activation, ModelType } from '../../common/modelFamilies';
import { labelMapFrom } from '../../trainer/data/labels';
import { writeModelFolder } from '../../trainer/engine/checkpoint';
import { loadModelFolder } from '../../trainer/engine/inference';
import { sampleVocab } from '../../examples/sample/generate.mjs';
import { TINY_ARCH, makeWorkspace } from './engineFixtures';
import { runEngine, wasmBackend } from './engineRunner';
import { compareInPython, parityCases, pythonWith, requirePython, skipUnless } from './hfParityCases';
import type { Reference } from './hfParityCases';
import { writeBpeTokenizer, writeUnigramTokenizer } from './familyTokenizers';

const withTorch = pythonWith('torch');
const torchSkip = skipUnless(withTorch, 'torch', { requiredInCi: true });
const STEPS = 3;

const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
before(async () => {
  await wasmBackend();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-family-parity-'));
  made.push(dir);
  return dir;
}

/** The tokenizer each family ships with: byte-level BPE (RoBERTa), Unigram (XLM-R), WordPiece (the others). */
async function tokenizerFor(modelType: ModelType): Promise<Tokenizer> {
  if (modelType === 'roberta' || modelType === 'xlm-roberta') {
    const dir = tempDir();
    if (modelType === 'roberta') writeBpeTokenizer(dir);
    else writeUnigramTokenizer(dir);
    return loadTokenizer(dir);
  }
  return tokenizerFromVocab(sampleVocab());
}

interface Fresh {
  modelType: ModelType;
  head: BertHead;
  act: Activation;
  embedding?: number;
}

/** A large initializer range makes the logits far from zero, so that a layout mistake could not hide. */
async function freshCheckpoint(f: Fresh): Promise<string> {
  const dir = tempDir();
  const tokenizer = await tokenizerFor(f.modelType);
  const config: BertConfig = {
    model_type: f.modelType,
    vocab_size: tokenizer.vocabSize,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 64,
    max_position_embeddings: 72,
    type_vocab_size: f.modelType === 'roberta' ? 1 : 2,
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    layer_norm_eps: f.modelType === 'roberta' ? 1e-5 : 1e-12,
    initializer_range: 0.2,
    pad_token_id: tokenizer.padId,
    hidden_act: f.act,
    ...(f.embedding !== undefined ? { embedding_size: f.embedding } : {}),
  };
  const model = BertModel.create(config, f.head, { numLabels: 3, seed: 3 });
  // The LayerNorms and biases start at 1 and 0: random ones make a swapped or missing one show in the logits.
  await perturbNorms(model);
  const labels = f.head === 'masked-lm' ? undefined : labelMapFrom(['bad', 'meh', 'good']);
  await writeModelFolder(dir, model, labels, tokenizer);
  model.dispose();
  return dir;
}

async function perturbNorms(model: BertModel): Promise<void> {
  const sd = await model.toStateDict();
  let k = 0;
  for (const [name, e] of sd) {
    if (e.shape.length !== 1) continue;
    for (let i = 0; i < e.data.length; i++) e.data[i] = e.data[i]! + 0.3 * Math.sin(++k);
    sd.set(name, e);
  }
  model.loadStateDict(sd);
}

/** Trains a few steps from scratch through the engine, the family named by model.architecture.model_type. */
async function trainedCheckpoint(
  task: 'text-classification' | 'masked-lm',
  architecture: Record<string, unknown>,
): Promise<string> {
  const ws = makeWorkspace({
    task,
    model: { architecture: { ...TINY_ARCH, max_position_embeddings: 40, initializer_range: 0.2, ...architecture } },
    training: { max_steps: STEPS, learning_rate: 1e-2, save_strategy: 'no' },
  });
  made.push(ws.dir);
  const run = await runEngine(ws.configFile);
  assert.equal(run.done.status, 'completed', JSON.stringify(run.done));
  const dir = path.join(run.runDir, `checkpoint-${STEPS}`);
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { model_type: string };
  assert.equal(config.model_type, architecture.model_type, 'the checkpoint is of the family the config named');
  return dir;
}

/**
 * Our logits on a checkpoint against the reference's. `segments`: whether the checkpoint's tokenizer gives a
 * pair's second text segment 1 (WordPiece's template) or RoBERTa's `</s></s>` with one segment.
 */
async function compare(dir: string, segments: boolean, reference: Reference = 'torch'): Promise<void> {
  const python = reference === 'torch' ? requirePython(withTorch, 'torch') : requirePython(withHf, 'transformers');
  const loaded = await loadModelFolder(dir);
  try {
    const cases = await parityCases(loaded, { segments });
    const largest = Math.max(...cases.flatMap((c) => c.logits.flat().map(Math.abs)));
    assert.ok(largest > 0.5, `the logits are far enough from zero to show a mistake (largest |logit| ${largest})`);
    const r = compareInPython(python, dir, cases, reference);
    const what = `${loaded.model.config.model_type}, ${loaded.model.head}, ${reference}`;
    console.log(`# parity (${what}):\n${r.output.trim().replace(/^/gm, '#   ')}`);
  } finally {
    loaded.model.dispose();
  }
}

const robertaTokens = (t: ModelType) => t === 'roberta' || t === 'xlm-roberta';

/** Each fresh checkpoint is written once, for both references. */
const fresh = new Map<Fresh, Promise<string>>();
const freshOnce = (f: Fresh) => fresh.get(f) ?? fresh.set(f, freshCheckpoint(f)).get(f)!;

const FRESH: Fresh[] = [
  { modelType: 'roberta', head: 'sequence-classification', act: 'gelu' },
  { modelType: 'roberta', head: 'masked-lm', act: 'gelu_new' },
  { modelType: 'xlm-roberta', head: 'sequence-classification', act: 'relu' },
  { modelType: 'distilbert', head: 'sequence-classification', act: 'gelu' },
  { modelType: 'distilbert', head: 'masked-lm', act: 'gelu_new' },
  { modelType: 'electra', head: 'sequence-classification', act: 'gelu_new', embedding: 16 },
  { modelType: 'electra', head: 'masked-lm', act: 'gelu', embedding: 16 },
];

for (const f of FRESH) {
  const what = `${f.modelType} ${f.head} (hidden_act ${f.act}${f.embedding ? `, embedding_size ${f.embedding}` : ''})`;
  test(`a fresh ${what} gives torch_families.py's logits`, { skip: torchSkip }, async () => {
    await compare(await freshOnce(f), !robertaTokens(f.modelType));
  });
}

test(
  `a RoBERTa classifier trained ${STEPS} steps by the engine gives torch_families.py's logits`,
  {
    skip: torchSkip,
  },
  async () => {
    // The workspace's tokenizer is WordPiece: a RoBERTa trained from scratch may use any tokenizer.
    await compare(await trainedCheckpoint('text-classification', { model_type: 'roberta' }), true);
  },
);

test(
  `an ELECTRA masked-LM model trained ${STEPS} steps by the engine gives torch_families.py's logits`,
  {
    skip: torchSkip,
  },
  async () => {
    const arch = { model_type: 'electra', embedding_size: 8, hidden_act: 'gelu_new' };
    await compare(await trainedCheckpoint('masked-lm', arch), true);
  },
);

test(
  `a DistilBERT classifier trained ${STEPS} steps by the engine gives torch_families.py's logits`,
  {
    skip: torchSkip,
  },
  async () => {
    // pre_classifier's ReLU halves the signal: a wider initialisation keeps the logits far from zero.
    const arch = { model_type: 'distilbert', initializer_range: 0.5 };
    await compare(await trainedCheckpoint('text-classification', arch), true);
  },
);

// transformers is not a Debian package and PyPI is out of reach here, so this skips wherever it is missing; where it
// is installed, from_pretrained loads each checkpoint by its config.json and gives the same logits.
const withHf = pythonWith('transformers, torch');
const hfSkip = skipUnless(withHf, 'transformers and torch', { requiredInCi: false });
test('every fresh checkpoint above loads in transformers itself with the same logits', { skip: hfSkip }, async () => {
  for (const f of FRESH) await compare(await freshOnce(f), !robertaTokens(f.modelType), 'transformers');
});
