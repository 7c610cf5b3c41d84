/**
 * What dynamic padding and length-bucketed batches save on the demo's real sentences
 * (examples/sentiment/train.csv, WordPiece tokenizer of examples/tokenizer), against padding every batch to
 * max_length, for a BERT-tiny training step at batch 32.
 *
 *   node --import tsx bench/padding.ts [--batches 6] [--max-length 128] [--backend wasm]
 *
 * Prints the padded tokens per epoch of each strategy and the measured time of a sample of its batches, and
 * extrapolates the epoch time; the JSON line at the end has the same numbers.
 */
import * as path from 'node:path';
import { selectBackend } from '../trainer/backend';
import { collate } from '../trainer/data/collate';
import type { Encoded } from '../trainer/data/collate';
import type { Batch } from '../trainer/data/batch';
import { lengthBucketedBatches, shuffledBatches } from '../trainer/data/bucketing';
import { readDataset } from '../files/data/readDataset';
import { loadTokenizer } from '../trainer/hf/tokenizer';
import { BertModel } from '../trainer/model/bert';
import { AdamW } from '../trainer/optim/adamw';
import { paramSetting } from '../trainer/optim/paramGroups';
import type { ParamSetting } from '../trainer/optim/paramGroups';
import { mulberry32 } from '../common/random';
import { BENCH_MODELS } from './models';
import { argValue, median } from './util';

const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const maxLength = Number(argValue('--max-length') ?? 128);
  const sample = Number(argValue('--batches') ?? 6);
  const batchSize = 32;
  const tokenizer = await loadTokenizer(path.join(ROOT, 'examples', 'tokenizer'));
  const data = await readDataset(path.join(ROOT, 'examples', 'sentiment', 'train.csv'), {
    textColumn: 'text',
    labelColumn: 'label',
  });
  const encoded: Encoded[] = data.rows.map((r) => ({
    ...tokenizer.encode(r.text, r.textPair, maxLength),
    label: r.label === 'positive' ? 1 : 0,
  }));
  const lengths = encoded.map((e) => e.inputIds.length);
  const realTokens = lengths.reduce((a, b) => a + b, 0);

  const strategies: { name: string; batches: number[][]; pad: (b: Batch) => Batch }[] = [
    // HF's padding="max_length": every batch is [32, max_length].
    {
      name: `pad to max_length ${maxLength}`,
      batches: shuffledBatches(encoded.length, batchSize, mulberry32(1)),
      pad: (b) => padBatch(b, maxLength, tokenizer.padId),
    },
    {
      name: 'dynamic padding (longest in batch)',
      batches: shuffledBatches(encoded.length, batchSize, mulberry32(1)),
      pad: (b) => b,
    },
    {
      name: 'dynamic padding + length buckets',
      batches: lengthBucketedBatches(lengths, batchSize, mulberry32(1)),
      pad: (b) => b,
    },
  ];

  const choice = await selectBackend((argValue('--backend') ?? 'wasm') as 'wasm');
  const config = { ...BENCH_MODELS.tiny, vocab_size: tokenizer.vocabSize };
  const model = BertModel.create(config, 'sequence-classification', { numLabels: 2, seed: 1 });
  const settings = new Map<string, ParamSetting>();
  for (const n of model.parameterNames())
    settings.set(
      n,
      paramSetting(n, {
        learningRate: 5e-5,
        weightDecay: 0.01,
        noDecay: ['bias', 'LayerNorm.weight'],
        layerwiseLrDecay: 1,
        numLayers: config.num_hidden_layers,
      }),
    );
  const opt = new AdamW(model.params, settings, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  let seed = 0;
  const step = async (batch: Batch): Promise<number> => {
    const t0 = performance.now();
    const { grads } = await model.lossAndGrads(batch, { training: true, seed: seed++ });
    opt.apply(grads, 1);
    for (const g of grads.values()) g.dispose();
    return performance.now() - t0;
  };
  const batchOf = (idx: readonly number[]) =>
    collate(
      idx.map((i) => encoded[i]!),
      tokenizer.padId,
      'text-classification',
    );
  await step(batchOf(Array.from({ length: batchSize }, (_, i) => i))); // warm-up

  console.log(
    `${encoded.length} sentences, ${realTokens} real tokens (mean ${(realTokens / encoded.length).toFixed(1)}, max ${Math.max(...lengths)}); BERT-tiny training on ${choice.name}, batch ${batchSize}`,
  );
  const rows = [];
  for (const s of strategies) {
    const padded = s.batches.reduce((n, b) => n + s.pad(batchOf(b)).inputIds.length, 0);
    // Measure an evenly spaced sample of the epoch's batches, so bucketed runs see short and long ones.
    const picks = Array.from(
      { length: Math.min(sample, s.batches.length) },
      (_, k) => s.batches[Math.floor((k * s.batches.length) / Math.min(sample, s.batches.length))]!,
    );
    const ms: number[] = [];
    for (const b of picks) ms.push(await step(s.pad(batchOf(b))));
    const msPerSample = ms.reduce((a, b) => a + b, 0) / picks.reduce((n, b) => n + b.length, 0);
    const epochS = (msPerSample * encoded.length) / 1000;
    rows.push({
      strategy: s.name,
      padded_tokens: padded,
      padding_share: 1 - realTokens / padded,
      median_step_ms: median(ms),
      samples_per_s: 1000 / msPerSample,
      epoch_s: epochS,
    });
    console.log(
      `${s.name.padEnd(38)} padded tokens ${String(padded).padStart(7)} (${((100 * (padded - realTokens)) / padded).toFixed(0)}% padding), ${(1000 / msPerSample).toFixed(1)} samples/s, epoch ≈ ${epochS.toFixed(0)} s`,
    );
  }
  const base = rows[0]!.samples_per_s;
  for (const r of rows.slice(1))
    console.log(`${r.strategy}: ${(r.samples_per_s / base).toFixed(1)}x the samples/s of padding to ${maxLength}`);
  console.log(JSON.stringify({ padding: rows }));
  opt.dispose();
  model.dispose();
}

/** The batch as HF's padding="max_length" makes it: every row `len` long, padding masked out. */
function padBatch(b: Batch, len: number, padId: number): Batch {
  const inputIds = new Int32Array(b.size * len).fill(padId);
  const attentionMask = new Int32Array(b.size * len);
  const tokenTypeIds = new Int32Array(b.size * len);
  for (let r = 0; r < b.size; r++) {
    inputIds.set(b.inputIds.subarray(r * b.seqLen, (r + 1) * b.seqLen), r * len);
    attentionMask.set(b.attentionMask.subarray(r * b.seqLen, (r + 1) * b.seqLen), r * len);
    tokenTypeIds.set(b.tokenTypeIds.subarray(r * b.seqLen, (r + 1) * b.seqLen), r * len);
  }
  return { size: b.size, seqLen: len, inputIds, attentionMask, tokenTypeIds, labels: b.labels };
}

void main();
