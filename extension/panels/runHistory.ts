/**
 * A run's history as the metrics panel shows it, read from its folder: metrics.jsonl through the same
 * applyMessage the page uses for live messages (the config is read by extension/runConfig.ts). No `vscode`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseTrainerMessage } from '../../common/protocol';
import { applyMessage, emptyRunSeries } from '../../common/runSeries';
import type { RunSeriesData } from '../../common/runSeries';

export async function readRunSeries(runDir: string, runId: string, name: string): Promise<RunSeriesData> {
  const s = emptyRunSeries(runId, name);
  const text = await fs.readFile(path.join(runDir, 'metrics.jsonl'), 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = parseTrainerMessage(line);
    // A torn last line (the trainer is writing it right now, or was killed mid-line) is skipped, not fatal.
    if (r.ok) applyMessage(s, r.message);
  }
  return s;
}
