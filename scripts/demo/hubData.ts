/**
 * The curve's data for a task read from the Hub by name (`data.dataset_name`): the rows come from the engine's own
 * loader (trainer/data/hubRows.ts on trainer/hf/hubDataset.ts: the same client, Hub cache, token and offline rules
 * as every run), fed the main comparison's own config, so that the curve draws from exactly the train split the
 * full-split runs train on, and its runs score exactly their validation and test examples. The demo reads the data
 * set once, before any run; the runs then find it in the cache.
 *
 * The main runs keep reading the data set by name, so nothing here may change what they see: the split checks are
 * reported, not applied, and the validation and test copies hold every row the engine reads.
 */
import * as path from 'node:path';
import { shown } from '../../common/shown';
import type { DatasetRow } from '../../files/data/readDataset';
import type { DataRows } from '../../trainer/engine/setup';
import { loadConfig } from '../../trainer/engine/loadConfig';
import { readHubRows } from '../../trainer/data/hubRows';
import type { HubOptions } from '../../trainer/hf/hub';
import { writeSplitFile, type LabelledRow, type PreparedData } from './demoData';
import { checkSplits, type SplitName, type SplitProblem } from './splitData';
import type { DemoTask } from './tasks';

/** What a check found, for a data set the demo reads as published (the problem's own message says "dropped"). */
const FOUND: Readonly<Record<SplitProblem['code'], string>> = {
  'split-empty-text': 'with an empty text',
  'split-duplicate-across': 'whose text (or pair) is also in an earlier split',
  'split-label-unseen': 'whose label the train split never has',
};

/**
 * Reads the Hub task's splits as the run `configFile` (a main run's config) reads them, checks them, and writes
 * the validation and test copies the curve's runs evaluate on. Labels are written as the runs' label ids (see
 * `demoRows`).
 */
export async function prepareHubData(
  task: DemoTask,
  configFile: string,
  out: string,
  log: (s: string) => void,
  hub: HubOptions = {},
): Promise<PreparedData> {
  if (task.data.kind !== 'hub') throw new Error(`the task ${task.name} is not read from the Hub`);
  const { config } = await loadConfig(configFile);
  const rows = await readHubRows(config, hub);
  for (const w of rows.warnings) log(`${task.data.dataset_name}: ${w}`);
  const splits = {
    train: demoRows(rows.train, rows.labelNames),
    validation: demoRows(rows.validation, rows.labelNames),
    test: demoRows(rows.test, rows.labelNames),
  };
  reportChecks(task, splits, log);
  const curveFiles: Partial<Record<SplitName, string>> = {};
  for (const name of ['validation', 'test'] as const) {
    if (splits[name].length === 0) continue;
    const file = path.join(out, 'data', `${name}.csv`);
    await writeSplitFile(file, splits[name], task);
    curveFiles[name] = file;
  }
  log(describe(task, rows, splits, out));
  return { dataFiles: {}, curveFiles, train: splits.train };
}

/**
 * The engine's rows as the demo's, labels as class ids when the label column is a ClassLabel. A CSV file cannot
 * carry a class order: the engine numbers a file's labels in sorted order, which for MRPC's names would make
 * `equivalent` id 0 and turn the F1 of the positive class (id 1) into the other class's. The ids written as
 * labels sort into the data set's own order, so a curve run has the label ids of the full-split runs.
 */
function demoRows(rows: readonly DatasetRow[], labelNames: readonly string[] | undefined): LabelledRow[] {
  const ids = asClassIds(labelNames);
  return rows.map((r) => ({
    text: r.text,
    ...(r.textPair !== undefined ? { pair: r.textPair } : {}),
    label: ids.get(r.label ?? '') ?? r.label ?? '',
    source: '',
  }));
}

function asClassIds(labelNames: readonly string[] | undefined): Map<string, string> {
  const ids = new Map<string, string>();
  (labelNames ?? []).forEach((name, id) => {
    if (!ids.has(name)) ids.set(name, String(id));
  });
  return ids;
}

/**
 * The same checks as a file task's, reported only. With the test split the validation split (GLUE), the test rows
 * are not compared with the validation rows they are.
 */
function reportChecks(task: DemoTask, splits: Record<SplitName, LabelledRow[]>, log: (s: string) => void): void {
  if (task.data.kind !== 'hub') return;
  const sameEval = task.data.test_split_name === task.data.validation_split_name;
  const checked = checkSplits(sameEval ? { ...splits, test: [] } : splits);
  for (const p of checked.problems)
    log(
      `data check: ${task.data.dataset_name} ${p.split}: ${p.count} row(s) ${FOUND[p.code]}; kept, as every run ` +
        'reads the data set as published (the full-split runs by name, the curve the same rows)',
    );
}

function describe(task: DemoTask, rows: DataRows, splits: Record<SplitName, LabelledRow[]>, out: string): string {
  const d = task.data as Extract<DemoTask['data'], { kind: 'hub' }>;
  const count = (n: number) => n.toLocaleString('en-US');
  const test = d.test_split_name === d.validation_split_name ? 'test (the validation split)' : 'test';
  const names = (rows.labelNames ?? []).slice(0, 20).map((n, i) => `${i} ${shown(n)}`);
  const labels = names.length > 0 ? `; labels as class ids (${names.join(', ')})` : '';
  return (
    `${d.dataset_name} (${d.dataset_config_name}) read through the engine's Hub loader: ` +
    `train ${count(splits.train.length)}, validation ${count(splits.validation.length)}, ${test} ` +
    `${count(splits.test.length)} rows; the curve's subsets and its evaluation copies in ${path.join(out, 'data')}${labels}`
  );
}
