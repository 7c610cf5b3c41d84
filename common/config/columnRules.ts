/**
 * The data section's column keys name different columns. A pair whose second text is its first, or a label
 * column that is also a text, trains without an error and learns nothing useful (or reads the answer from the
 * input); the trainer would only find out after training, from the scores.
 */
import { shown } from '../shown';
import type { ConfigDiagnostic } from './diagnostic';
import { diag } from './makeDiagnostic';
import type { FineTuneConfig } from './schema';
import type { ConfigDocument } from './yamlDoc';

type ColumnKey = 'text_column' | 'text_pair_column' | 'label_column';

const WHY: Record<ColumnKey, string> = {
  text_column: '',
  text_pair_column: 'the second text of a pair is another column than the first (e.g. `sentence2` for `sentence1`)',
  label_column: 'the label is never one of the texts, or the model reads its answer from the input',
};

/** One error per key that repeats a column already named by a key before it (text, then pair, then label). */
export function columnRules(c: FineTuneConfig, doc: ConfigDocument): ConfigDiagnostic[] {
  const keys: ColumnKey[] = ['text_column'];
  if (c.data.text_pair_column !== undefined) keys.push('text_pair_column');
  if (c.task === 'text-classification') keys.push('label_column');
  const out: ConfigDiagnostic[] = [];
  keys.forEach((key, i) => {
    const name = c.data[key];
    const same = keys.slice(0, i).find((k) => c.data[k] === name);
    if (name === undefined || same === undefined) return;
    // On the key the user wrote; a default has no place in the file.
    const written = doc.pair(['data', key]) !== undefined ? key : same;
    const at = doc.pair(['data', written]) !== undefined ? ['data', written] : ['data'];
    const message = `\`data.${key}\` names \`${shown(name)}\`, the same column as \`data.${same}\`: ${WHY[key]}.`;
    out.push(diag('error', 'same-column', message, at, doc, [], 'value'));
  });
  return out;
}
