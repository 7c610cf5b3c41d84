/**
 * Diagnostic, not part of the demo: how much a model folder's frozen features say about sentiment. A logistic
 * regression is trained on the [CLS] output and on the token mean of the last layer for train.csv and scored on
 * validation.csv; `--random` adds the same for a randomly initialised encoder as the baseline. The README's
 * "Main job" quotes its numbers.
 *
 *   node --import tsx scripts/pretrain/probeFeatures.ts [MODEL_DIR (default examples/pretrained)] [--random]
 */
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { selectBackend } from '../../trainer/backend';
import { BertModel } from '../../trainer/model/bert';
import { loadTokenizer } from '../../trainer/hf/tokenizer';
import { readSafetensors } from '../../files/hf/safetensors';
import { readDataset } from '../../files/data/readDataset';
import { collate } from '../../trainer/data/collate';
import { toStateDict } from '../../trainer/engine/setup';
import { fitLogistic } from '../demo/logisticRegression';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const dirArg = process.argv.slice(2).find((a) => !a.startsWith('--'));
const dir = path.resolve(dirArg ?? path.join(root, 'examples', 'pretrained'));
const withRandom = process.argv.includes('--random');
(async () => {
  await selectBackend('wasm' as never);
  const tok = await loadTokenizer(path.join(root, 'examples', 'tokenizer'));
  const cfg = { ...JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')), hidden_act: 'gelu' };
  const pre = BertModel.create(cfg, 'masked-lm', { seed: 1 });
  pre.loadStateDict(toStateDict((await readSafetensors(path.join(dir, 'model.safetensors'))).tensors));
  const read = async (f: string) =>
    (await readDataset(path.join(root, 'examples/sentiment', f), { textColumn: 'text', labelColumn: 'label' })).rows;
  const [tr, va] = [await read('train.csv'), await read('validation.csv')];
  const feats = (m: BertModel, rows: typeof tr) => {
    const cls: number[][] = [],
      mean: number[][] = [];
    for (let i = 0; i < rows.length; i += 64) {
      const part = rows.slice(i, i + 64).map((r) => ({ ...tok.encode(r.text, undefined, 64), label: 0 }));
      const b = collate(part as never, tok.padId, 'text-classification');
      const h = m.hiddenStates(b);
      const d = h.dataSync();
      const H = cfg.hidden_size;
      const S = b.seqLen;
      for (let j = 0; j < b.size; j++) {
        cls.push(Array.from(d.slice(j * S * H, j * S * H + H)));
        const acc = new Array(H).fill(0);
        let n = 0;
        for (let s = 0; s < S; s++)
          if (b.attentionMask[j * S + s]) {
            n++;
            for (let k = 0; k < H; k++) acc[k] += d[(j * S + s) * H + k]!;
          }
        mean.push(acc.map((x) => x / n));
      }
      h.dispose();
    }
    return { cls, mean };
  };
  const y = (rows: typeof tr) => rows.map((r) => (r.label === 'positive' ? 1 : 0));
  // Standardised features, then the diagnostics' logistic regression (scripts/demo/logisticRegression.ts).
  const probe = (X: number[][], Y: number[], Xv: number[][], Yv: number[]) => {
    const H = X[0]!.length;
    const mu = new Array(H).fill(0),
      sd = new Array(H).fill(0);
    for (const x of X) x.forEach((v, k) => (mu[k] += v / X.length));
    for (const x of X) x.forEach((v, k) => (sd[k] += (v - mu[k]) ** 2 / X.length));
    const z = (x: number[]) => x.map((v, k) => (v - mu[k]) / Math.sqrt(sd[k] + 1e-6));
    return fitLogistic(X.map(z), Y, { l2: 1e-3, epochs: 300, learningRate: 0.5 }).accuracy(Xv.map(z), Yv);
  };
  const models: [string, BertModel][] = [[path.basename(dir), pre]];
  if (withRandom) models.push(['random', BertModel.create(cfg, 'masked-lm', { seed: 1 })]);
  for (const [name, m] of models) {
    const a = feats(m, tr),
      v = feats(m, va);
    console.log(
      name,
      'CLS probe val acc',
      probe(a.cls, y(tr), v.cls, y(va)).toFixed(3),
      ' mean-pool probe val acc',
      probe(a.mean, y(tr), v.mean, y(va)).toFixed(3),
    );
  }
})();
