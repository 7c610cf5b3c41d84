/** Label maps in the shape of Hugging Face's config.json (`id2label`, `label2id`). */
import { FineTuneError } from '../../common/errors';
import type { DatasetRow } from '../../files/data/readDataset';

export interface LabelMap {
  /** labels[id] is the label text. */
  labels: string[];
  id2label: Record<number, string>;
  label2id: Record<string, number>;
}

const INT = /^-?\d+$/;

/**
 * A stable order, so that the same data gives the same ids on every run: integer labels numerically
 * ("2" before "10"), otherwise alphabetically by code point (locale-independent). A mix puts integers first.
 */
export function buildLabelMap(labels: Iterable<string>): LabelMap {
  const unique = [...new Set(labels)];
  unique.sort((a, b) => {
    const ai = INT.test(a);
    const bi = INT.test(b);
    if (ai && bi) return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
    if (ai !== bi) return ai ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return labelMapFrom(unique);
}

/** A label map from a known order, e.g. a pre-trained model's config.json `id2label`. */
export function labelMapFrom(labels: readonly string[]): LabelMap {
  const id2label: Record<number, string> = {};
  const label2id: Record<string, number> = {};
  labels.forEach((l, i) => {
    id2label[i] = l;
    label2id[l] = i;
  });
  return { labels: [...labels], id2label, label2id };
}

/** Ids for every row's label; a label the map does not know (e.g. only in validation data) names its line. */
export function encodeLabels(rows: readonly DatasetRow[], map: LabelMap, file: string): Int32Array {
  const out = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    if (r.label === undefined) {
      throw new FineTuneError('data-missing-label', `line ${r.line} has no label`, { file, line: r.line, fix: 'Give every row a label.' });
    }
    const id = map.label2id[r.label];
    if (id === undefined) {
      const known = map.labels.slice(0, 20).map((l) => `'${l}'`).join(', ');
      throw new FineTuneError('data-unknown-label', `line ${r.line} has the label '${r.label}', which is not in the training data`, {
        file,
        line: r.line,
        detail: `Known labels: ${known}${map.labels.length > 20 ? ', ...' : ''}.`,
        fix: 'Fix the label, or add examples of it to the training data.',
      });
    }
    out[i] = id;
  });
  return out;
}
