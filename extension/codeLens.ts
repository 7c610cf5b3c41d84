/** "▶ Start run" / "■ Stop" at the top of every `*.finetune.yaml`. */
import * as vscode from 'vscode';
import type { RunManager } from './runManager';
import { isActive } from './runModel';

export class RunCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private readonly sub: vscode.Disposable;
  private lastKey = '';

  constructor(private readonly manager: RunManager) {
    // Only a change of which configs are running changes the lenses, not every step.
    this.sub = manager.onDidChangeRun(() => {
      const key = manager
        .activeRuns()
        .map((r) => `${r.configPath}:${r.status}`)
        .join('|');
      if (key !== this.lastKey) {
        this.lastKey = key;
        this.emitter.fire();
      }
    });
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    const run = this.manager.activeRuns().find((r) => r.configPath === doc.uri.fsPath);
    if (run && isActive(run.status)) {
      return [
        new vscode.CodeLens(top, { title: `■ Stop (${run.status})`, command: 'finetune.stopRun', arguments: [run.id] }),
        new vscode.CodeLens(top, { title: 'Show metrics', command: 'finetune.openMetrics', arguments: [run.id] }),
      ];
    }
    return [new vscode.CodeLens(top, { title: '▶ Start run', command: 'finetune.startRun', arguments: [doc.uri] })];
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}
