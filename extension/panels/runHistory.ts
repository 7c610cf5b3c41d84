/**
 * A run's history as the metrics panel shows it, read from its folder: metrics.jsonl through the same
 * applyMessage the page uses for live messages (the config is read by extension/runConfig.ts). No `vscode`.
 */
import { readMetricsLog } from '../../common/runFolder/metricsLog';
import { applyMessage, emptyRunSeries } from '../../common/runSeries';
import type { RunSeriesData } from '../../common/runSeries';

export async function readRunSeries(runDir: string, runId: string, name: string): Promise<RunSeriesData> {
  const s = emptyRunSeries(runId, name);
  // A torn last line (the trainer is writing it right now, or was killed mid-line) is skipped, not fatal.
  for (const m of await readMetricsLog(runDir).catch(() => [])) applyMessage(s, m);
  return s;
}
