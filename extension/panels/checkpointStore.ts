/**
 * The checkpoints of a run as the explorer shows them: step, epoch, metrics, size, best/last, which ones
 * save_total_limit deletes next, and broken ones with the reason. Plus the pure parts of its actions: the forked
 * config and the model card. No `vscode`: tested under node.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { EvalRecord } from '../../common/runSeries';
import type { CheckpointInfo } from '../../common/webviewProtocol';
import { ConfigDocument } from '../../common/config/yamlDoc';
import { isScalar } from '../../common/config/yamlDoc';
import { diffEdit } from '../../common/freezeEdit';
import { checkpointsToDelete, listCheckpointDirs } from '../../common/runFolder/checkpoints';
import type { CheckpointEntry } from '../../common/runFolder/checkpoints';
import { readTextBounded, TRAINER_STATE_JSON } from '../../common/runFolder/layout';
import { modelCardFacts, modelCardText } from '../../common/runFolder/modelCard';
import { validateConfigText } from '../../common/config/validate';
import { loggedAt, readTrainerStateFile } from '../../common/runFolder/trainerState';
import { evalMetricKey } from '../../common/metricNames';

const REQUIRED = ['config.json', 'model.safetensors', TRAINER_STATE_JSON];

async function folderSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await folderSize(p);
    else total += (await fs.stat(p).catch(() => undefined))?.size ?? 0;
  }
  return total;
}

/**
 * Which checkpoints save_total_limit removes when the next one is written: the trainer's rule
 * (checkpointsToDelete) applied to these plus the next, which is kept, as are the best.
 */
export function deletedNext(
  steps: readonly { step: number; isBest: boolean }[],
  limit: number | undefined,
): Set<number> {
  const next = { step: Infinity, isBest: false };
  const all = [...[...steps].sort((a, b) => a.step - b.step), next];
  return new Set(checkpointsToDelete(all, limit, (c) => c === next || c.isBest).map((c) => c.step));
}

export async function readCheckpoints(
  runDir: string,
  o: { bestPath?: string; saveTotalLimit?: number; evals?: readonly EvalRecord[] } = {},
): Promise<CheckpointInfo[]> {
  const out: CheckpointInfo[] = [];
  let bestPath = o.bestPath;
  for (const c of await listCheckpointDirs(runDir)) {
    const { info, recordedBest } = await describeCheckpoint(c);
    // The first trainer_state.json that names a best checkpoint decides, unless the caller knows better.
    bestPath ??= recordedBest;
    const ev = o.evals?.filter((x) => x.step === info.step).pop();
    if (ev) for (const [k, x] of Object.entries(ev.metrics)) info.metrics[evalMetricKey(k)] = x;
    out.push(info);
  }
  out.sort((a, b) => (a.step ?? 0) - (b.step ?? 0));
  const norm = (p: string) => path.resolve(runDir, p);
  for (const c of out) c.isBest = !!bestPath && (norm(bestPath) === c.path || path.basename(bestPath) === c.name);
  const last = out[out.length - 1];
  if (last) last.isLast = true;
  const victims = deletedNext(
    out.map((c) => ({ step: c.step ?? 0, isBest: c.isBest })),
    o.saveTotalLimit,
  );
  for (const c of out) c.deletedNext = victims.has(c.step ?? 0);
  return out;
}

/** The run's column keys (flattened config) and the `evaluate` flags that name them. */
const COLUMN_FLAGS: readonly [key: string, flag: string][] = [
  ['data.text_column', '--text-column'],
  ['data.text_pair_column', '--text-pair-column'],
  ['data.label_column', '--label-column'],
];

/**
 * The `evaluate` arguments naming a run's own columns, from its resolved config (flattened, as readRunConfig
 * gives it): without them the trainer looks for `text` and `label`, and evaluating a checkpoint of a run trained
 * on other columns fails with data-missing-column. `--flag=value`, so that a column named like a flag stays a value.
 * A run that may be multi-label also gives its `label_separator`, which splits a label cell as training split it.
 */
export function evaluateColumnArgs(config: Readonly<Record<string, unknown>>): string[] {
  const flags = mayBeMultiLabel(config) ? [...COLUMN_FLAGS, SEPARATOR_FLAG] : COLUMN_FLAGS;
  return flags.flatMap(([key, flag]) => {
    const value = Object.hasOwn(config, key) ? config[key] : undefined;
    return typeof value === 'string' && value !== '' ? [`${flag}=${value}`] : [];
  });
}

const SEPARATOR_FLAG: readonly [key: string, flag: string] = ['data.label_separator', '--label-separator'];

/**
 * Declared multi-label, or a classification whose problem type the trainer inferred (list labels, the pre-trained
 * model's own problem_type): the checkpoint's config.json decides then, and the separator must be at hand.
 */
function mayBeMultiLabel(config: Readonly<Record<string, unknown>>): boolean {
  const own = (key: string) => (Object.hasOwn(config, key) ? config[key] : undefined);
  const problemType = own('model.problem_type');
  return own('task') !== 'masked-lm' && (problemType === undefined || problemType === 'multi_label_classification');
}

/**
 * `--max-length` from a run's `data.max_length`, for `evaluate` and `predict` alike: the trainer then cuts texts
 * (both of a pair, longest first) where training cut them, not at the model's position limit.
 */
export function maxLengthArgs(config: Readonly<Record<string, unknown>>): string[] {
  const value = Object.hasOwn(config, 'data.max_length') ? config['data.max_length'] : undefined;
  return typeof value === 'number' && Number.isInteger(value) && value >= 3 ? [`--max-length=${value}`] : [];
}

/**
 * Why Try cannot send these texts to a checkpoint of a run with these columns, or undefined: a model trained on
 * pairs is asked about pairs, one trained on single texts about single texts. Without the run's columns (its
 * config can no longer be read) the trainer answers whatever it is given.
 */
export function tryTextsProblem(
  texts: { text: string; textPair?: string },
  columns: { text: string; textPair?: string } | undefined,
): string | undefined {
  if (!columns) return undefined;
  if (columns.textPair !== undefined && texts.textPair === undefined) {
    return `This run was trained on sentence pairs: give the second text (${columns.textPair}) too.`;
  }
  if (columns.textPair === undefined && texts.textPair !== undefined) {
    return `This run was trained on single texts (${columns.text}): it takes no second text.`;
  }
  return undefined;
}

/** One checkpoint folder: its files checked, its trainer_state.json read (step, epoch, logged metrics). */
async function describeCheckpoint(c: CheckpointEntry): Promise<{ info: CheckpointInfo; recordedBest?: string }> {
  const name = path.basename(c.dir);
  const sizeBytes = await folderSize(c.dir);
  const info: CheckpointInfo = { name, path: c.dir, step: c.step, metrics: {}, sizeBytes, ...UNLABELLED };
  const problems: string[] = [];
  for (const f of REQUIRED) {
    if (!(await fs.stat(path.join(c.dir, f)).catch(() => undefined))) problems.push(`${f} is missing`);
  }
  const configText = await fs.readFile(path.join(c.dir, 'config.json'), 'utf8').catch(() => undefined);
  if (configText !== undefined) {
    try {
      JSON.parse(configText);
    } catch (err) {
      problems.push(`config.json is not valid JSON (${(err as Error).message})`);
    }
  }
  let recordedBest: string | undefined;
  if (!problems.includes(`${TRAINER_STATE_JSON} is missing`)) {
    try {
      const state = await readTrainerStateFile(c.dir);
      if (state.epoch !== undefined) info.epoch = state.epoch;
      info.step = state.global_step;
      recordedBest = state.best_model_checkpoint;
      for (const [k, x] of loggedAt(state, info.step)) info.metrics[k] = x;
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (problems.length) info.broken = problems.join('; ');
  return { info, ...(recordedBest !== undefined ? { recordedBest } : {}) };
}

const UNLABELLED = { isBest: false, isLast: false, deletedNext: false };

/**
 * A config that fine-tunes from a checkpoint: `model.name_or_path` set to it (relative to the config's folder),
 * `mode: fine-tune`, no `model.architecture` and no `resume_from_checkpoint`; everything else, comments
 * included, as the user wrote it.
 */
export function forkConfigText(text: string, configDir: string, checkpointDir: string): string {
  let cur = text;
  const rel = path.relative(configDir, checkpointDir).split(path.sep).join('/');
  const value = JSON.stringify(path.isAbsolute(rel) || rel.startsWith('../') ? rel : `./${rel}`);
  const replaceOrInsert = (section: string[], key: string, v: string) => {
    const doc = new ConfigDocument(cur);
    const node = doc.node([...section, key]);
    if (node?.range) cur = cur.slice(0, node.range[0]) + v + cur.slice(node.range[1]);
    else {
      const e = doc.insertKeyEdit(section, key, v);
      cur = cur.slice(0, e.range.start) + e.newText + cur.slice(e.range.end);
    }
  };
  const removePair = (p: string[]) => {
    const doc = new ConfigDocument(cur);
    const pair = doc.pair(p);
    if (!pair || !isScalar(pair.key) || !pair.key.range) return;
    const start = cur.lastIndexOf('\n', pair.key.range[0] - 1) + 1;
    const valueEnd = (pair.value as { range?: [number, number, number] } | null)?.range?.[1] ?? pair.key.range[1];
    const nl = cur.indexOf('\n', valueEnd - 1);
    cur = cur.slice(0, start) + cur.slice(nl < 0 ? cur.length : nl + 1);
  };
  removePair(['model', 'architecture']);
  removePair(['training', 'resume_from_checkpoint']);
  replaceOrInsert([], 'mode', 'fine-tune');
  replaceOrInsert(['model'], 'name_or_path', value);
  return diffEdit(text, cur) ? cur : text;
}

/** Bounds of what a card for an older checkpoint reads: a run's config and a checkpoint's config.json. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * The model card of a checkpoint written before checkpoints carried their own (README.md, from the trainer):
 * the same card (common/runFolder/modelCard.ts), from the run's resolved config, the checkpoint's config.json
 * and its trainer_state.json. Undefined when the run's config cannot be read.
 */
export async function cardForOlderCheckpoint(
  ckpt: string,
  runName: string,
  configFiles: readonly (string | undefined)[],
): Promise<string | undefined> {
  let configText: string | undefined;
  for (const f of configFiles) {
    configText ??= f ? await readTextBounded(f, MAX_CONFIG_BYTES).catch(() => undefined) : undefined;
  }
  if (configText === undefined) return undefined;
  const { config } = validateConfigText(configText);
  const source = await readTextBounded(path.join(ckpt, 'config.json'), MAX_CONFIG_BYTES)
    .then((t) => JSON.parse(t) as unknown)
    .catch(() => undefined);
  const sourceConfig = source !== null && typeof source === 'object' ? (source as Record<string, unknown>) : undefined;
  const state = await readTrainerStateFile(ckpt);
  return modelCardText(modelCardFacts(config, sourceConfig, state, runName));
}
