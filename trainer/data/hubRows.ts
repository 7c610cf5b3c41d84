/**
 * The rows of a run whose data is a Hub data set (`data.dataset_name`): its splits fetched (or found in the
 * cache) by hf/hubDataset.ts and read from Parquet. The train split is required; the validation and test splits
 * are used when the data set has them (required only when the config names them), and a test split without
 * labels (GLUE hides them as -1) is left out with a warning rather than scored against nothing.
 */
import type { FineTuneConfig } from '../../common/config/schema';
import { configSchema } from '../../common/config/schema';
import { readParquetSplit } from '../../files/data/parquetDataset';
import type { ParquetSplit } from '../../files/data/parquetDataset';
import { DEFAULT_DATASET_CONFIG } from '../../files/hf/datasetSplits';
import type { DataRows } from '../engine/setup';
import { fetchHubDataset } from '../hf/hubDataset';
import type { HubOptions } from '../hf/hub';
import { checkLabelCount } from './labels';
import { splitTrainValidation } from './split';

const defaults = configSchema.fields.data.fields;

export async function readHubRows(c: FineTuneConfig, hub: HubOptions): Promise<DataRows> {
  const d = c.data;
  const name = d.dataset_name as string;
  const config = d.dataset_config_name ?? DEFAULT_DATASET_CONFIG;
  const splits = splitsToFetch(c);
  const fetched = await fetchHubDataset(
    { name, config, ...(d.revision !== undefined ? { revision: d.revision } : {}), splits },
    { ...hub, revision: undefined },
  );
  const warnings: string[] = [];
  const read = async (split: string): Promise<(ParquetSplit & { file: string }) | undefined> => {
    const files = fetched.files.get(split);
    if (files === undefined) return undefined;
    const what = `${name} (${config}, ${split})`;
    const got = await readParquetSplit(files, {
      what,
      textColumn: d.text_column,
      ...(d.text_pair_column !== undefined ? { textPairColumn: d.text_pair_column } : {}),
      ...(c.task === 'text-classification' ? { labelColumn: d.label_column } : {}),
    });
    for (const w of got.warnings) warnings.push(`warning: ${w.message}`);
    return { ...got, file: files[0] as string };
  };
  const train = (await read(d.train_split_name)) as ParquetSplit & { file: string };
  if (train.unlabelled > 0)
    warnings.push(`warning: ${name} (${config}, train): ${train.unlabelled} rows have no label and are left out`);
  if (c.task === 'text-classification') {
    checkLabelCount(train.rows, { maxLabels: d.max_labels, file: train.file, column: d.label_column });
  }
  const out: DataRows = {
    train: train.rows,
    validation: [],
    test: [],
    files: { train: train.file },
    ...(train.labelNames ? { labelNames: train.labelNames } : {}),
    warnings,
  };
  await addValidation(out, c, await read(d.validation_split_name));
  const test = await read(d.test_split_name);
  if (test !== undefined && test.rows.length > 0) {
    out.test = test.rows;
    out.files.test = test.file;
  } else if (test !== undefined && test.unlabelled > 0) {
    warnings.push(
      `info: the ${d.test_split_name} split of ${name} (${config}) has no labels (${test.unlabelled} rows; GLUE hides its test labels), so it is not evaluated`,
    );
  }
  return out;
}

/** Train always; validation and test when the data set has them, or when the config names them. */
function splitsToFetch(c: FineTuneConfig): { name: string; required: boolean }[] {
  const d = c.data;
  const named = (key: 'validation_split_name' | 'test_split_name') => d[key] !== defaults[key].default;
  return [
    { name: d.train_split_name, required: true },
    { name: d.validation_split_name, required: named('validation_split_name') },
    { name: d.test_split_name, required: named('test_split_name') },
  ];
}

async function addValidation(out: DataRows, c: FineTuneConfig, split: (ParquetSplit & { file: string }) | undefined) {
  if (split !== undefined && split.rows.length > 0) {
    out.validation = split.rows;
    out.files.validation = split.file;
  } else if (c.data.validation_split !== undefined) {
    const s = splitTrainValidation(out.train, c.data.validation_split, c.data.split_seed);
    out.train = s.train;
    out.validation = s.validation;
    out.files.validation = out.files.train;
  }
}
