/**
 * Label maps (Hugging Face's `id2label` / `label2id`). Labels are the user's text, so `label2id` is a Map: a label
 * `constructor` or `__proto__` is a label like any other, never a property of Object.prototype.
 */
import { FineTuneError } from '../../common/errors';
import type { ProblemType } from '../../common/problemType';
import { shown } from '../../common/shown';

/** A label as quoted in a message: a free-text "label" may be a paragraph. */
const shownLabel = (label: string): string => `'${shown(label)}'`;
import type { DatasetRow } from '../../files/data/readDataset';

export interface LabelMap {
  /** labels[id] is the label text (HF's id2label). */
  labels: string[];
  label2id: ReadonlyMap<string, number>;
  /** What the head predicts from these labels (HF's config.problem_type). */
  problemType: ProblemType;
  /** Multi-label: a label is predicted when its sigmoid is above this (`model.threshold`; 0.5 when absent). */
  threshold?: number;
}

const INT = /^-?\d+$/;

/**
 * A stable order, so that the same data gives the same ids on every run: integer labels numerically
 * ("2" before "10"), otherwise alphabetically by code point (locale-independent). A mix puts integers first.
 */
export function buildLabelMap(
  labels: Iterable<string>,
  problemType: ProblemType = 'single_label_classification',
): LabelMap {
  const unique = [...new Set(labels)];
  unique.sort((a, b) => {
    const ai = INT.test(a);
    const bi = INT.test(b);
    if (ai && bi) return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
    if (ai !== bi) return ai ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return labelMapFrom(unique, problemType);
}

/** A label map from a known order, e.g. a pre-trained model's config.json `id2label`. */
export function labelMapFrom(
  labels: readonly string[],
  problemType: ProblemType = 'single_label_classification',
): LabelMap {
  const label2id = new Map<string, number>();
  labels.forEach((l, i) => {
    if (!label2id.has(l)) label2id.set(l, i);
  });
  return { labels: [...labels], label2id, problemType };
}

/** Ids for every row's label; a label the map does not know (e.g. only in validation data) names its line. */
export function encodeLabels(rows: readonly DatasetRow[], map: LabelMap, file: string): Int32Array {
  const out = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    if (r.label === undefined) {
      throw new FineTuneError('data-missing-label', `line ${r.line} has no label`, {
        file,
        line: r.line,
        fix: 'Give every row a label.',
      });
    }
    const id = map.label2id.get(r.label);
    if (id === undefined) {
      const known = map.labels.slice(0, 20).map(shownLabel).join(', ');
      throw new FineTuneError(
        'data-unknown-label',
        `line ${r.line} has the label ${shownLabel(r.label)}, which is not in the training data`,
        {
          file,
          line: r.line,
          detail: `Known labels: ${known}${map.labels.length > 20 ? ', ...' : ''}.`,
          fix: 'Fix the label, or add examples of it to the training data.',
        },
      );
    }
    out[i] = id;
  });
  return out;
}

export interface LabelLimit {
  /** `data.max_labels`. */
  maxLabels: number;
  file: string;
  column: string;
  /** Regression has no classes to count; multi-label counts the labels of its lists (`data.label_separator`). */
  problemType?: ProblemType;
  separator?: string;
}

/**
 * Refuses a training set with more distinct labels than `data.max_labels` before anything is built: that many
 * classes almost always means `label_column` names a free-text or id column, and would train a useless head.
 */
export function checkLabelCount(rows: readonly DatasetRow[], limit: LabelLimit): void {
  if (limit.problemType === 'regression') return;
  const distinct = new Set<string>();
  const multi = limit.problemType === 'multi_label_classification';
  for (const r of rows) {
    if (multi || r.labelList) for (const l of labelSet(r, limit.separator ?? ',')) distinct.add(l);
    else if (r.label !== undefined) distinct.add(r.label);
  }
  if (distinct.size <= limit.maxLabels) return;
  const share = distinct.size / Math.max(rows.length, 1);
  const looks =
    share > 0.5 ? ` It looks like free text: ${Math.round(share * 100)}% of the rows have a label of their own.` : '';
  const examples = [...distinct].slice(0, 3).map(shownLabel).join(', ');
  throw new FineTuneError(
    'data-too-many-labels',
    `the label column '${shown(limit.column)}' has ${distinct.size} distinct values in ${rows.length} rows, ` +
      'more than ' +
      `data.max_labels (${limit.maxLabels}).${looks}`,
    {
      file: limit.file,
      detail: `For example ${examples}.`,
      fix:
        'Point data.label_column at the column that holds the classes; if the task really has this many, ' +
        `raise data.max_labels to at least ${distinct.size}.`,
    },
  );
}

/** The labels of a row of a multi-label run: its JSON list, or its text split at the separator; none is valid. */
export function labelSet(row: DatasetRow, separator: string): string[] {
  if (row.labelList) return row.labelList;
  if (row.label === undefined) return [];
  const parts = separator === '' ? [row.label] : row.label.split(separator);
  return [...new Set(parts.map((p) => p.trim()).filter((p) => p !== ''))];
}
