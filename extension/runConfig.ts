/**
 * The extension's one reader of `*.finetune.yaml` text, built on the validator (common/config/validate.ts): the
 * commands, the panels and the model card all see the same config, resolved with the same defaults the trainer
 * applies. A run is read from its own `config.resolved.yaml`, else from the config file it names. No `vscode`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { greaterIsBetter } from '../common/config/rules';
import { normaliseMetricName } from '../common/metricNames';
import type { FineTuneConfig } from '../common/config/schema';
import { validateConfigText } from '../common/config/validate';

/** Larger than any config anyone writes by hand; a bigger file is not read into the extension host. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export interface ConfigView {
  /** The config with defaults applied (best effort when it has errors, as the validator gives it). */
  config: FineTuneConfig;
  /** `training.learning_rate` → value, for the comparison table and the model card; a null-prototype object. */
  flat: Record<string, unknown>;
  /** The metric that decides "best", without `eval_`, and which way is better. */
  best: { metric: string; greaterIsBetter: boolean };
  /** The run's columns, as the trainer reads its data. */
  columns: { text: string; textPair?: string; label: string };
}

export function readConfigText(text: string): ConfigView {
  const { config } = validateConfigText(text);
  const d = config.data;
  const metric = normaliseMetricName(config.training.metric_for_best_model ?? 'loss');
  return {
    config,
    flat: flattenConfig(config),
    best: { metric, greaterIsBetter: greaterIsBetter(config) },
    columns: {
      text: d.text_column,
      label: d.label_column,
      ...(d.text_pair_column ? { textPair: d.text_pair_column } : {}),
    },
  };
}

/** Reads a config file; undefined when it is missing, unreadable or too large. */
export async function readConfigFile(file: string): Promise<ConfigView | undefined> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile() || stat.size > MAX_CONFIG_BYTES) return undefined;
    return readConfigText(await fs.readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The config a run was trained with: its config.resolved.yaml, else the config file it names. */
export async function readRunConfig(
  runDir: string | undefined,
  configPath: string | undefined,
): Promise<ConfigView | undefined> {
  for (const file of [runDir && path.join(runDir, 'config.resolved.yaml'), configPath]) {
    const view = file ? await readConfigFile(file) : undefined;
    if (view) return view;
  }
  return undefined;
}

/** `{training: {learning_rate: 1}}` → `{'training.learning_rate': 1}`; lists stay whole values. */
export function flattenConfig(
  value: unknown,
  prefix = '',
  out: Record<string, unknown> = Object.create(null),
): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix && value !== undefined) out[prefix] = value;
  return out;
}
