/** The run status bar item's text and tooltip (pure, so that it is tested without VS Code). */
import { downloadDescription, downloadStatusText } from '../common/downloadProgress';
import { formatDuration, formatMetric } from './runModel';
import type { RunInfo } from './runModel';

export function statusText(run: RunInfo, others: number): string {
  const parts = [
    `$(${run.download ? 'cloud-download' : run.status === 'running' ? 'sync~spin' : 'loading~spin'}) ${run.name}`,
  ];
  // A model downloading is what a starting run waits for: say which file and how far, not "starting…".
  if (run.download && (run.status === 'starting' || run.status === 'running'))
    parts.push(downloadStatusText(run.download));
  else if (run.status === 'queued') parts.push('queued');
  else if (run.status === 'starting') parts.push('starting…');
  else if (run.status === 'stopping') parts.push('saving checkpoint…');
  else {
    parts.push(run.totalSteps ? `${run.step}/${run.totalSteps}` : `step ${run.step}`);
    if (run.loss !== undefined && run.loss !== null) parts.push(`loss ${formatMetric(run.loss)}`);
    if (run.etaMs !== undefined && run.etaMs !== null) parts.push(`ETA ${formatDuration(run.etaMs)}`);
  }
  if (others > 0) parts.push(`(+${others})`);
  return parts.join('  ');
}

export function statusTooltip(run: RunInfo): string {
  const what = run.download ? downloadDescription(run.download) : run.status;
  return `${run.name}: ${what}. Click to open the metrics.`;
}
