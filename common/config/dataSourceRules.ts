/**
 * A run's data comes from files (`train_file`, ...) or from a Hub data set (`dataset_name`, as HF `datasets`
 * names it), never both: the trainer would have to guess which one the user meant.
 */
import type { ConfigDiagnostic } from './diagnostic';
import { diag } from './makeDiagnostic';
import type { FineTuneConfig } from './schema';
import type { ConfigDocument } from './yamlDoc';

const FILE_KEYS = ['train_file', 'validation_file', 'test_file'] as const;
const DATASET_KEYS = [
  'dataset_config_name',
  'revision',
  'train_split_name',
  'validation_split_name',
  'test_split_name',
] as const;
/** `org/name` or `name`, as the Hub spells repo ids; no dots at the ends, no `..`. */
const DATASET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

export function isDatasetId(name: string): boolean {
  return DATASET_ID.test(name) && !name.includes('..') && !name.endsWith('.') && name.length <= 96;
}

export function dataSourceRules(c: FineTuneConfig, doc: ConfigDocument): ConfigDiagnostic[] {
  const has = (key: string) => doc.pair(['data', key]) !== undefined;
  const out: ConfigDiagnostic[] = [];
  const name = c.data.dataset_name;
  if (name === undefined) {
    for (const k of DATASET_KEYS.filter(has)) {
      const message = `\`data.${k}\` is for a Hub data set and is ignored without \`data.dataset_name\`.`;
      out.push(diag('warning', 'dataset-key-unused', message, ['data', k], doc, []));
    }
    return out;
  }
  if (!isDatasetId(name)) {
    const message = `\`data.dataset_name\`: '${name.slice(0, 100)}' is not a Hub data set id; write it as \`org/name\`, e.g. \`nyu-mll/glue\`.`;
    out.push(diag('error', 'dataset-name-invalid', message, ['data', 'dataset_name'], doc, [], 'value'));
  }
  for (const k of FILE_KEYS.filter(has)) {
    const message =
      `\`data.${k}\` and \`data.dataset_name\` both name the data: use the Hub data set (remove \`${k}\`) ` +
      'or your files (remove `dataset_name`), not both.';
    out.push(diag('error', 'data-source-conflict', message, ['data', k], doc, []));
  }
  return out;
}
