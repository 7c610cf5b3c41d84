/**
 * What a classification head learns from each row, per problem type (HF's config.problem_type): a class id
 * (single-label, cross-entropy), a 0/1 vector over the label map (multi-label, BCE-with-logits) or a number
 * (regression, MSE). A row that does not fit the problem type names its line and the key to change.
 */
import { FineTuneError } from '../../common/errors';
import type { ProblemType } from '../../common/problemType';
import { shown } from '../../common/shown';
import type { DatasetRow } from '../../files/data/readDataset';
import { buildLabelMap, encodeLabels, labelMapFrom, labelSet } from './labels';
import type { LabelMap } from './labels';

/** The target of one row: a class id, or float targets (regression: [value]; multi-label: one 0/1 per label). */
export type RowTarget = { label: number } | { target: number[] };

/** The label map the data gives a problem type (regression: one output, HF's `LABEL_0`). */
export function taskLabelMap(rows: readonly DatasetRow[], problemType: ProblemType, separator: string): LabelMap {
  if (problemType === 'regression') return labelMapFrom(['LABEL_0'], problemType);
  if (problemType === 'multi_label_classification') {
    return buildLabelMap(
      rows.flatMap((r) => labelSet(r, separator)),
      problemType,
    );
  }
  return buildLabelMap(
    rows.map((r) => r.label ?? ''),
    problemType,
  );
}

/** Every row's target under `map`'s problem type; the first row that does not fit names its line. */
export function encodeTargets(
  rows: readonly DatasetRow[],
  map: LabelMap,
  file: string,
  separator: string,
): RowTarget[] {
  switch (map.problemType) {
    case 'regression':
      return rows.map((r) => ({ target: [regressionValue(r, file)] }));
    case 'multi_label_classification':
      return rows.map((r) => ({ target: multiHot(r, map, file, separator) }));
    default: {
      const list = rows.find((r) => r.labelList);
      if (list) throw listInSingleLabel(list, file);
      const ids = encodeLabels(rows, map, file);
      return rows.map((_, i) => ({ label: ids[i]! }));
    }
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function regressionValue(r: DatasetRow, file: string): number {
  const text = r.label;
  const value = text !== undefined && NUMBER.test(text) ? Number(text) : NaN;
  if (Number.isFinite(value)) return value;
  const what = r.labelList ? 'a list' : `'${shown(text ?? '')}'`;
  throw new FineTuneError(
    'data-label-not-a-number',
    `line ${r.line}: the label is ${what}, but model.problem_type is regression, which needs a number`,
    {
      file,
      line: r.line,
      fix:
        'Give every row a number as its label (e.g. 3.8), or set model.problem_type to ' +
        'single_label_classification if the labels are classes.',
    },
  );
}

function multiHot(r: DatasetRow, map: LabelMap, file: string, separator: string): number[] {
  const out = new Array<number>(map.labels.length).fill(0);
  for (const l of labelSet(r, separator)) {
    const id = map.label2id.get(l);
    if (id === undefined) {
      throw new FineTuneError(
        'data-unknown-label',
        `line ${r.line} has the label '${shown(l)}', which is not in the training data`,
        { file, line: r.line, fix: 'Fix the label, or add examples of it to the training data.' },
      );
    }
    out[id] = 1;
  }
  return out;
}

function listInSingleLabel(r: DatasetRow, file: string): FineTuneError {
  return new FineTuneError(
    'data-label-is-a-list',
    `line ${r.line}: the label is a list, but model.problem_type is single_label_classification`,
    {
      file,
      line: r.line,
      fix: 'Set model.problem_type to multi_label_classification, or give every row one label.',
    },
  );
}
