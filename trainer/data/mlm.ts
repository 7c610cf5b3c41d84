/** Masked-language-model masking, as in BERT and HF's DataCollatorForLanguageModeling. */
import type { Rng } from '../../common/random';
import { IGNORE_INDEX, type Batch } from './batch';

export interface MaskingVocab {
  readonly vocabSize: number;
  readonly maskId: number;
  readonly specialIds: ReadonlySet<number>;
}

/**
 * Selects each real, non-special token with probability `prob`; the labels hold the original id there and
 * -100 elsewhere. Of the selected: 80% become [MASK], 10% a random token, 10% stay. Random replacements are
 * drawn from the non-special vocabulary. Returns a new batch; the input is not changed.
 * Given the same rng state, the result is the same (the engine seeds it from (seed, epoch, step)).
 */
export function maskTokens(batch: Batch, tokenizer: MaskingVocab, prob = 0.15, rng: Rng = Math.random): Batch {
  const inputIds = batch.inputIds.slice();
  const labels = new Int32Array(inputIds.length).fill(IGNORE_INDEX);
  const ordinary = ordinaryIds(tokenizer);
  for (let i = 0; i < inputIds.length; i++) {
    const id = inputIds[i] as number;
    // Draw for every position, padding included, so a position's draw does not depend on its neighbours.
    const select = rng();
    const how = rng();
    const pick = rng();
    if (batch.attentionMask[i] === 0 || tokenizer.specialIds.has(id) || select >= prob) continue;
    labels[i] = id;
    if (how < 0.8) inputIds[i] = tokenizer.maskId;
    else if (how < 0.9) inputIds[i] = ordinary[Math.floor(pick * ordinary.length)] as number;
  }
  return { ...batch, inputIds, labels };
}

const cache = new WeakMap<object, Int32Array>();

function ordinaryIds(t: MaskingVocab): Int32Array {
  const hit = cache.get(t);
  if (hit && hit.length + t.specialIds.size >= t.vocabSize) return hit;
  const out: number[] = [];
  for (let id = 0; id < t.vocabSize; id++) if (!t.specialIds.has(id)) out.push(id);
  const arr = Int32Array.from(out);
  cache.set(t, arr);
  return arr;
}
