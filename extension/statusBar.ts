/** The status bar item: the active run, its download or step/total, loss and ETA; click opens the metrics panel. */
import * as vscode from 'vscode';
import type { RunManager } from './runManager';
import { statusText, statusTooltip } from './statusText';

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
    this.item.tooltip = statusTooltip(run);
    this.item.command = { command: 'finetune.openMetrics', title: 'Open metrics', arguments: [run.id] };
    this.item.show();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.sub.dispose();
    this.item.dispose();
  }
}
