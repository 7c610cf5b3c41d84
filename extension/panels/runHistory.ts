/**
 * A run's history as the metrics panel shows it, read from its folder: metrics.jsonl through the same
 * applyMessage the page uses for live messages, run.json for what the trainer said about the run, and the
 * resolved config (config.resolved.yaml) flattened for the comparison table. No `vscode`: tested under node.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { readMetricsLog } from '../../common/runFolder/metricsLog';
import { applyMessage, emptyRunSeries } from '../../common/runSeries';
import type { RunSeriesData } from '../../common/runSeries';

export async function readRunSeries(runDir: string, runId: string, name: string): Promise<RunSeriesData> {
  const s = emptyRunSeries(runId, name);
  // A torn last line (the trainer is writing it right now, or was killed mid-line) is skipped, not fatal.
  for (const m of await readMetricsLog(runDir).catch(() => [])) applyMessage(s, m);
  return s;
}

/** `{training: {learning_rate: 1}}` → `{'training.learning_rate': 1}`; lists stay whole values. */
export function flattenConfig(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = value;
  return out;
}

/** The resolved config a run was trained with (falling back on the config file it names), flattened. */
export async function readRunConfig(runDir: string | undefined, configPath: string | undefined): Promise<Record<string, unknown>> {
  for (const file of [runDir && path.join(runDir, 'config.resolved.yaml'), configPath].filter((f): f is string => !!f)) {
    try {
      return flattenConfig(parse(await fs.readFile(file, 'utf8')));
    } catch {
      // Missing or unreadable: try the next source; the table then shows fewer rows, never an error.
    }
  }
  return {};
}

export interface RunJsonExtras {
  earlyStoppingPatience?: number;
  metricForBest?: string;
  startedAt?: string;
}

export function runExtras(config: Record<string, unknown>): RunJsonExtras {
  const out: RunJsonExtras = {};
  const p = config['training.early_stopping_patience'];
  if (typeof p === 'number' && Number.isInteger(p)) out.earlyStoppingPatience = p;
  const m = config['training.metric_for_best_model'];
  if (typeof m === 'string') out.metricForBest = m;
  return out;
}
