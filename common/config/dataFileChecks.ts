/**
 * Checks of a config against its data files: the files exist and are readable, the named columns exist, and the
 * label column looks like labels. The host reads only the start of each file (see ConfigFileHost), so the label
 * checks reason from a sample and say so.
 */
import { shown } from '../shown';
import { didYouMean } from '../textDistance';
import type { ConfigDiagnostic, ConfigFix } from './diagnostic';
import type { ColumnSample, ConfigFileHost } from './fileChecks';
import { hubDatasetQuery } from './fileChecks';
import { diag } from './makeDiagnostic';
import type { FineTuneConfig } from './schema';
import type { ConfigDocument } from './yamlDoc';

type DataFileKey = 'train_file' | 'validation_file' | 'test_file';
type ColumnKey = 'text_column' | 'text_pair_column' | 'label_column';

/** Below this many sampled rows, a high share of distinct labels says little. */
export const FREE_TEXT_MIN_ROWS = 20;
/** Labels repeat: a column where more than this share of rows has a value of its own is not a label column. */
export const FREE_TEXT_SHARE = 0.5;
/** Column names that usually hold the classes, tried first when suggesting another label column. */
const LABEL_NAMES = ['label', 'labels', 'class', 'category', 'target', 'sentiment', 'intent', 'topic', 'y'];

export async function checkDataFiles(
  c: FineTuneConfig,
  doc: ConfigDocument,
  host: ConfigFileHost,
  signal?: AbortSignal,
): Promise<ConfigDiagnostic[]> {
  const out: ConfigDiagnostic[] = [];
  const keys = (['train_file', 'validation_file', 'test_file'] as const).filter(
    (k) => c.data[k] !== undefined && doc.pair(['data', k]) !== undefined,
  );
  for (const k of keys) out.push(...(await checkDataFile(c, k, doc, host, signal)));
  const query = hubDatasetQuery(c);
  if (query !== undefined && host.hubDatasetColumns !== undefined && doc.pair(['data', 'dataset_name'])) {
    // Only a cached data set is checked: the language server never downloads.
    const cols = await host.hubDatasetColumns(query);
    const source = `${query.name} (${query.config ?? 'default'}, ${query.split})`;
    if (cols?.ok) out.push(...missingColumns(c, 'dataset_name', source, cols.value, doc));
  }
  return out;
}

async function checkDataFile(
  c: FineTuneConfig,
  k: DataFileKey,
  doc: ConfigDocument,
  host: ConfigFileHost,
  signal: AbortSignal | undefined,
): Promise<ConfigDiagnostic[]> {
  const written = c.data[k] as string;
  const abs = host.resolve(written);
  if (!(await host.fileExists(abs))) {
    return [
      diag(
        'error',
        'file-not-found',
        `\`data.${k}\`: no file at ${written} (looked in ${abs}).`,
        ['data', k],
        doc,
        [],
        'value',
      ),
    ];
  }
  const cols = await host.readColumns(abs, signal);
  if (!cols.ok) {
    // A header past the editor's read budget is not an error in the file: the trainer reads it whole.
    const severity = cols.code === 'data-sample-too-long' ? 'info' : 'error';
    return [diag(severity, 'data-unreadable', `\`data.${k}\`: ${cols.reason}`, ['data', k], doc, [], 'value')];
  }
  const out = [...missingColumns(c, k, written, cols.value, doc), ...repeatedColumns(c, k, cols.value, doc)];
  if (k === 'train_file' && c.task === 'text-classification' && cols.value.includes(c.data.label_column)) {
    const sample = await host.sampleColumns(abs, signal);
    if (sample.ok) out.push(...labelColumnChecks(c, sample.value, doc));
  }
  return out;
}

function missingColumns(
  c: FineTuneConfig,
  k: DataFileKey | 'dataset_name',
  source: string,
  columns: readonly string[],
  doc: ConfigDocument,
): ConfigDiagnostic[] {
  const out: ConfigDiagnostic[] = [];
  const needed = usedColumns(c);
  const listed =
    columns
      .slice(0, 50)
      .map((x) => `\`${shown(x)}\``)
      .join(', ') + (columns.length > 50 ? ', ...' : '');
  for (const col of needed) {
    const name = c.data[col];
    if (name === undefined || columns.includes(name)) continue;
    const s = didYouMean(name, columns);
    const written = doc.pair(['data', col]) !== undefined;
    const guess = s ? ` Did you mean \`${shown(s)}\`?` : '';
    const message = `${source} has no column \`${name}\` (${col}); its columns are ${listed}.${guess}`;
    const fixes = s && written ? [useColumn(doc, col, s)] : [];
    out.push(diag('error', 'missing-column', message, written ? ['data', col] : ['data', k], doc, fixes, 'value'));
  }
  return out;
}

/** A column the config uses that the header names twice: the readers take the first, as pandas does. */
function repeatedColumns(
  c: FineTuneConfig,
  k: DataFileKey,
  columns: readonly string[],
  doc: ConfigDocument,
): ConfigDiagnostic[] {
  const used = usedColumns(c);
  const out: ConfigDiagnostic[] = [];
  for (const col of used) {
    const name = c.data[col];
    const at = columns.flatMap((x, i) => (x === name ? [i + 1] : []));
    if (name === undefined || at.length < 2) continue;
    const message =
      `${c.data[k]} names the column \`${shown(name)}\` ${at.length} times (columns ${at.join(', ')}); ` +
      `column ${at[0]} is read. Rename the others so that each column has its own name.`;
    const path = doc.pair(['data', col]) !== undefined ? ['data', col] : ['data', k];
    out.push(diag('warning', 'duplicate-column', message, path, doc, [], 'value'));
  }
  return out;
}

/** The column keys the task reads: masked-lm reads a pair's second text too (as BERT's pre-training does). */
function usedColumns(c: FineTuneConfig): ColumnKey[] {
  return c.task === 'masked-lm'
    ? ['text_column', 'text_pair_column']
    : ['text_column', 'text_pair_column', 'label_column'];
}

function useColumn(doc: ConfigDocument, col: ColumnKey, name: string): ConfigFix {
  return {
    title: `Use column \`${shown(name)}\``,
    edits: [{ range: doc.valueRange(['data', col]), newText: name }],
    preferred: true,
  };
}

/**
 * The label column has at least two classes, and not so many that it must be text: a free-text column as labels
 * gives thousands of one-example classes (and a run the trainer refuses past `data.max_labels`).
 */
export function labelColumnChecks(c: FineTuneConfig, sample: ColumnSample, doc: ConfigDocument): ConfigDiagnostic[] {
  // A regression's values are all distinct, and a multi-label cell joins several labels: neither counts classes.
  if (c.model.problem_type === 'regression' || c.model.problem_type === 'multi_label_classification') return [];
  const column = c.data.label_column;
  const stats = sample.columns.get(column);
  if (stats === undefined) return [];
  const written = doc.pair(['data', 'label_column']) !== undefined;
  const at = written ? ['data', 'label_column'] : ['data', 'train_file'];
  const file = c.data.train_file;
  if (stats.distinct < 2) {
    // From a prefix, one class may only mean the file is sorted by label.
    if (!sample.complete) return [];
    const has = stats.distinct === 1 ? `a single class (\`${shown(stats.examples[0] ?? '')}\`)` : 'no values';
    const message = `The label column \`${column}\` of ${file} has ${has}: a classifier needs at least two.`;
    return [diag('error', 'single-class', message, at, doc, [], 'value')];
  }
  const freeText = sample.rows >= FREE_TEXT_MIN_ROWS && stats.distinct > FREE_TEXT_SHARE * sample.rows;
  const tooMany = stats.distinct > c.data.max_labels;
  if (!freeText && !tooMany) return [];
  const where = sample.complete ? `in its ${sample.rows} rows` : `in the first ${sample.rows} rows`;
  const alternative = labelLikeColumn(c, sample);
  const guess = alternative === undefined ? '' : ` Did you mean \`${shown(alternative)}\`?`;
  const limit = `the trainer refuses more than ${c.data.max_labels} classes (\`data.max_labels\`)`;
  const message = freeText
    ? `label_column \`${column}\` looks like free text: ${stats.distinct} distinct values ${where} of ${file}; ` +
      `${limit}.`
    : `label_column \`${column}\` has ${stats.distinct} distinct values ${where} of ${file}; ${limit}.`;
  // An error when the run would be refused; a small complete file under the limit would still train.
  const severity = tooMany || !sample.complete ? 'error' : 'warning';
  const fixes = alternative !== undefined && written ? [useColumn(doc, 'label_column', alternative)] : [];
  return [
    diag(severity, freeText ? 'label-column-free-text' : 'too-many-labels', message + guess, at, doc, fixes, 'value'),
  ];
}

/** Another column of the sample whose values repeat like classes, preferring the usual label names. */
function labelLikeColumn(c: FineTuneConfig, sample: ColumnSample): string | undefined {
  const skip = new Set([c.data.label_column, c.data.text_column, c.data.text_pair_column]);
  const limit = Math.min(c.data.max_labels, Math.max(2, FREE_TEXT_SHARE * sample.rows));
  const candidates = [...sample.columns]
    .filter(([name, s]) => !skip.has(name) && s.distinct >= 2 && s.distinct <= limit)
    .map(([name, s]) => ({ name, distinct: s.distinct, named: LABEL_NAMES.includes(name.toLowerCase()) }));
  candidates.sort((a, b) => Number(b.named) - Number(a.named) || a.distinct - b.distinct);
  return candidates[0]?.name;
}
