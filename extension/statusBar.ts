/** The status bar item: the active run, step/total, loss and ETA; click opens the metrics panel. */
import * as vscode from 'vscode';
import type { RunManager } from './runManager';
import { formatDuration, formatMetric } from './runModel';
import type { RunInfo } from './runModel';

export function statusText(run: RunInfo, others: number): string {
  const parts = [`$(${run.status === 'running' ? 'sync~spin' : 'loading~spin'}) ${run.name}`];
  if (run.status === 'queued') parts.push('queued');
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

export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('finetune.run', vscode.StatusBarAlignment.Left, 50);
  private readonly sub: vscode.Disposable;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly manager: RunManager) {
    this.item.name = 'Fine-Tune run';
    this.sub = manager.onDidChangeRun(() => {
      if (this.timer) return;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.update();
      }, 200);
    });
    this.update();
  }

  private update(): void {
    const active = this.manager.activeRuns();
    const run = active.find((r) => r.status === 'running') ?? active[0];
    if (!run) {
      this.item.hide();
      return;
    }
    this.item.text = statusText(run, active.length - 1);
    this.item.tooltip = `${run.name}: ${run.status}. Click to open the metrics.`;
    this.item.command = { command: 'finetune.openMetrics', title: 'Open metrics', arguments: [run.id] };
    this.item.show();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.sub.dispose();
    this.item.dispose();
  }
}
