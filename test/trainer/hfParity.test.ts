/**
 * Our checkpoint loads in Hugging Face transformers with the same logits. Needs python3 with transformers and
 * torch (a GPU machine has both); skipped elsewhere, saying why. Where only torch is installed (Debian's
 * python3-torch), the same checkpoint is loaded by test/trainer/torch_bert.py — modeling_bert written out with HF's
 * module names and `load_state_dict(strict=True)` — and compared the same way.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { tokenizerFromVocab } from '../../trainer/hf/tokenizer';
import { BertModel } from '../../trainer/model/bert';
import { labelMapFrom } from '../../trainer/data/labels';
import { writeModelFolder } from '../../trainer/engine/checkpoint';
import { loadModelFolder, predictText } from '../../trainer/engine/inference';
import { sampleVocab } from '../../examples/sample/generate.mjs';

/** The first of these interpreters that can import `modules`, or why none can. */
function pythonWith(modules: string): { python?: string; why: string } {
  let why = '';
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', `import ${modules}`], { encoding: 'utf8' });
    if (r.status === 0) return { python, why: '' };
    why = (r.stderr || String(r.error ?? '')).trim().split('\n').at(-1) ?? '';
  }
  return { why };
}

const withTransformers = pythonWith('transformers, torch');
const withTorch = pythonWith('torch');

before(async () => {
  await tf.setBackend('cpu');
});

/** Writes a 3-label checkpoint with our engine and our predictions for three inputs (one a pair). */
async function checkpointWithPredictions(): Promise<{ dir: string; json: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-parity-'));
  const tokenizer = tokenizerFromVocab(sampleVocab());
  // A large initializer range makes the logits far from zero, so a layout mistake could not hide.
  const model = BertModel.create(
    { vocab_size: tokenizer.vocabSize, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 64, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, layer_norm_eps: 1e-12, initializer_range: 0.2, pad_token_id: tokenizer.padId, hidden_act: 'gelu' },
    'sequence-classification',
    { numLabels: 3, seed: 3 },
  );
  await writeModelFolder(dir, model, labelMapFrom(['bad', 'meh', 'good']), tokenizer);
  model.dispose();
  const loaded = await loadModelFolder(dir);
  const values = [
    await predictText(loaded, 'the lamp is great!'),
    await predictText(loaded, 'overall, this jacket looks cheap, i think.'),
    await predictText(loaded, 'the phone is', 'so far the phone feels solid.'),
  ];
  loaded.model.dispose();
  const json = path.join(dir, 'predict.json');
  writeFileSync(json, JSON.stringify(values));
  return { dir, json };
}

for (const [reference, found] of [['transformers', withTransformers], ['torch', withTorch]] as const) {
  const skip = found.python ? false : `python3 with ${reference === 'transformers' ? 'transformers and torch' : 'torch'} is not available (${found.why})`;
  const title =
    reference === 'transformers'
      ? 'transformers.BertForSequenceClassification.from_pretrained(our checkpoint) gives our logits'
      : 'modeling_bert written out in PyTorch loads our checkpoint strictly and gives our logits';
  test(title, { skip }, async () => {
    const { dir, json } = await checkpointWithPredictions();
    const r = spawnSync(found.python!, [path.join(__dirname, 'hf_parity.py'), dir, json, '--tolerance', '1e-4', '--reference', reference], { encoding: 'utf8' });
    const m = /max_abs_diff=(\S+)/.exec(r.stdout);
    assert.ok(m, `${r.stdout}\n${r.stderr}`);
    console.log(`parity (${reference}): ${r.stdout.trim()}`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(Number(m[1]) <= 1e-4);
  });
}
