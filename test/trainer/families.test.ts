/**
 * The model families' parameter inventories, config.json round trips and tokenizer conventions, against numbers
 * Hugging Face publishes (num_parameters of the released models) and the formats its classes save.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bertParameters, countParameters } from '../../common/bertParams';
import { validateBertConfig } from '../../files/hf/bertConfig';
import { architectureJson } from '../../files/hf/familyConfig';
import { modelConfigFrom } from '../../trainer/engine/setup';
import { loadTokenizer } from '../../trainer/hf/tokenizer';
import { robertaPositions } from '../../trainer/model/families/roberta';
import { writeBpeTokenizer } from './familyTokenizers';

const base = { max_position_embeddings: 512, type_vocab_size: 2, intermediate_size: 3072, hidden_size: 768 };

test('parameter counts match the released models (model.num_parameters() in transformers)', () => {
  const roberta = { ...base, model_type: 'roberta', vocab_size: 50265, num_hidden_layers: 12 };
  const robertaBase = { ...roberta, max_position_embeddings: 514, type_vocab_size: 1 };
  // RobertaForSequenceClassification.from_pretrained('roberta-base', num_labels=2): 124,647,170.
  assert.equal(countParameters(bertParameters(robertaBase, 'sequence-classification', 2)), 124_647_170);
  const distil = { ...base, model_type: 'distilbert', vocab_size: 30522, num_hidden_layers: 6 };
  // DistilBertForSequenceClassification.from_pretrained('distilbert-base-uncased'): 66,955,010.
  assert.equal(countParameters(bertParameters(distil, 'sequence-classification', 2)), 66_955_010);
  const names = bertParameters(distil, 'masked-lm').map((p) => p.name);
  assert.ok(names.includes('distilbert.transformer.layer.5.attention.q_lin.weight'));
  assert.ok(names.includes('vocab_projector.bias') && !names.includes('vocab_projector.weight'), 'tied weight');
  assert.ok(!names.some((n) => n.includes('token_type')), 'DistilBERT has no token types');
});

test("ELECTRA's embeddings have embedding_size and are projected to hidden_size; its heads are HF's", () => {
  const c = { ...base, model_type: 'electra', vocab_size: 100, num_hidden_layers: 1, hidden_size: 256 };
  const ps = new Map(bertParameters({ ...c, embedding_size: 128 }, 'masked-lm').map((p) => [p.name, p.shape]));
  assert.deepEqual(ps.get('electra.embeddings.word_embeddings.weight'), [100, 128]);
  assert.deepEqual(ps.get('electra.embeddings_project.weight'), [256, 128]);
  assert.deepEqual(ps.get('generator_predictions.dense.weight'), [128, 256]);
  assert.deepEqual(ps.get('generator_lm_head.bias'), [100]);
  const same = bertParameters({ ...c, embedding_size: 256 }, 'sequence-classification', 3).map((p) => p.name);
  assert.ok(!same.some((n) => n.startsWith('electra.embeddings_project')), 'no projection at equal widths');
  assert.ok(same.includes('classifier.dense.weight') && same.includes('classifier.out_proj.bias'));
});

test("RoBERTa's positions start after pad_token_id and skip padding, as create_position_ids_from_input_ids", () => {
  const batch = { size: 2, seqLen: 5, inputIds: Int32Array.from([0, 7, 8, 2, 1, 0, 1, 9, 2, 1]) } as never;
  assert.deepEqual([...robertaPositions(batch, 1)], [2, 3, 4, 5, 1, 2, 1, 3, 4, 1]);
});

test("a DistilBERT config.json is read under BERT's names and written back in DistilBERT's own", () => {
  const raw = {
    model_type: 'distilbert',
    architectures: ['DistilBertForMaskedLM'],
    vocab_size: 30522,
    dim: 64,
    n_layers: 2,
    n_heads: 4,
    hidden_dim: 128,
    dropout: 0.15,
    attention_dropout: 0.05,
    activation: 'gelu_new',
    max_position_embeddings: 512,
    qa_dropout: 0.1,
    seq_classif_dropout: 0.3,
    pad_token_id: 0,
  };
  const read = validateBertConfig(raw, 'config.json');
  const ours = modelConfigFrom(read, 'config.json');
  assert.equal(ours.hidden_size, 64);
  assert.equal(ours.num_hidden_layers, 2);
  assert.equal(ours.intermediate_size, 128);
  assert.equal(ours.hidden_dropout_prob, 0.15);
  assert.equal(ours.hidden_act, 'gelu_new');
  assert.equal(ours.classifier_dropout, 0.3);
  assert.equal(ours.layer_norm_eps, 1e-12);
  const written = architectureJson(ours, 'sequence-classification');
  for (const k of ['dim', 'n_layers', 'n_heads', 'hidden_dim', 'dropout', 'attention_dropout', 'activation'] as const) {
    assert.equal(written[k], raw[k], k);
  }
  assert.equal(written.seq_classif_dropout, 0.3);
  assert.deepEqual(written.architectures, ['DistilBertForSequenceClassification']);
  assert.equal(written.hidden_size, undefined, 'no BERT names that DistilBertConfig would misread');
});

test('config.json refuses what no family runs, naming the key and the line', () => {
  const text = '{\n  "model_type": "electra",\n  "hidden_act": "silu",\n  "vocab_size": 10\n}';
  assert.throws(
    () => validateBertConfig(JSON.parse(text), 'c.json', text),
    (e: { code: string; line: number }) => e.code === 'model-unsupported-activation' && e.line === 3,
  );
  const distil = { model_type: 'distilbert', vocab_size: 10, sinusoidal_pos_embds: true };
  assert.throws(() => validateBertConfig(distil, 'c.json'), /sinusoidal_pos_embds/);
  const roberta = validateBertConfig(
    { ...base, model_type: 'roberta', vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2 },
    'c.json',
  );
  assert.equal(roberta.pad_token_id, 1, "RobertaConfig's default pad");
});

test('a RoBERTa folder with vocab.json + merges.txt tokenizes as RobertaTokenizerFast and saves what it reads', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-bpe-'));
  try {
    writeBpeTokenizer(path.join(dir, 'in'));
    const t = await loadTokenizer(path.join(dir, 'in'));
    assert.deepEqual([t.clsId, t.padId, t.sepId], [0, 1, 2]);
    const pair = t.encode('the lamp', 'so far', 64);
    // <s> Ġthe Ġlamp </s> </s> so Ġfar </s>: the second text has no prefix space, every token segment 0.
    assert.equal(pair.inputIds.length, 8);
    assert.deepEqual(pair.inputIds.slice(3, 5), [2, 2]);
    assert.deepEqual(pair.tokenTypeIds, new Array(8).fill(0));
    // Truncation leaves room for the four special tokens of a pair.
    assert.equal(t.encode('the lamp is great', 'so far the phone feels solid', 9).inputIds.length, 9);
    await t.save(path.join(dir, 'out'));
    for (const f of ['tokenizer.json', 'vocab.json', 'merges.txt']) readFileSync(path.join(dir, 'out', f));
    const config = JSON.parse(readFileSync(path.join(dir, 'out', 'tokenizer_config.json'), 'utf8'));
    assert.equal(config.tokenizer_class, 'RobertaTokenizer');
    // The saved folder alone (no config.json) still gives RoBERTa's template, from tokenizer.json's post-processor.
    const again = await loadTokenizer(path.join(dir, 'out'));
    assert.deepEqual(again.encode('the lamp', 'so far', 64), pair);
    rmSync(path.join(dir, 'in', 'merges.txt'));
    await assert.rejects(loadTokenizer(path.join(dir, 'in')), /vocab\.json but no merges\.txt/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
