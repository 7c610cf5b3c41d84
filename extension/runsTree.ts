/**
 * The Runs view: one item per run (name, mode badge, status icon, best metric), expanding to its config, a
 * metrics summary and its checkpoints (best and last labelled). `contextValue` carries the run's state as words
 * (`run running stoppable`, `run interrupted resumable`), which the menus in package.json match with regexes.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunsIndex } from './runsIndex';
import { formatDuration, formatMetric, isActive } from './runModel';
import type { CheckpointInfo, RunInfo, RunStatus } from './runModel';
import { runTooltipMarkdown } from './markdown';
import { normaliseMetricName } from '../common/metricNames';

export type RunsNode =
  | { kind: 'run'; run: RunInfo }
  | { kind: 'config'; run: RunInfo }
  | { kind: 'summary'; run: RunInfo; label: string; description?: string }
  | { kind: 'checkpoints'; run: RunInfo }
  | { kind: 'checkpoint'; run: RunInfo; checkpoint: CheckpointInfo }
  | { kind: 'reason'; run: RunInfo };

const STATUS_ICON: Record<RunStatus, [string, string | undefined]> = {
  queued: ['clock', undefined],
  starting: ['loading~spin', undefined],
  running: ['sync~spin', 'charts.blue'],
  stopping: ['loading~spin', 'charts.yellow'],
  completed: ['pass', 'testing.iconPassed'],
  'early-stopped': ['pass', 'testing.iconPassed'],
  stopped: ['debug-pause', 'charts.yellow'],
  cancelled: ['circle-slash', undefined],
  failed: ['error', 'testing.iconFailed'],
  interrupted: ['warning', 'charts.orange'],
};

export function runContextValue(run: RunInfo): string {
  const words = ['run', run.status];
  if (isActive(run.status) && run.live) words.push('stoppable');
  if (!isActive(run.status) && run.checkpoints.length && run.configPath && run.status !== 'completed')
    words.push('resumable');
  if (run.runDir) words.push('hasFolder');
  if (!isActive(run.status)) words.push('deletable');
  return words.join(' ');
}

export function runDescription(run: RunInfo): string {
  const parts: string[] = [];
  if (run.mode) parts.push(run.mode === 'fine-tune' ? 'fine-tune' : 'from scratch');
  if (isActive(run.status)) {
    parts.push(run.status === 'running' && run.totalSteps ? `${run.step}/${run.totalSteps}` : run.status);
    if (run.loss !== undefined && run.loss !== null) parts.push(`loss ${formatMetric(run.loss)}`);
  } else {
    parts.push(run.status);
    if (run.bestMetric) parts.push(`${run.bestMetric.name} ${formatMetric(run.bestMetric.value)}`);
  }
  return parts.join(' · ');
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly sub: { dispose(): void };
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly index: RunsIndex) {
    // Steps arrive many times a second; one repaint per 250 ms is plenty for a tree.
    this.sub = index.onDidChange(() => {
      if (this.timer) return;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.emitter.fire(undefined);
      }, 250);
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.sub.dispose();
    this.emitter.dispose();
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (!node) return this.index.list().map((run) => ({ kind: 'run', run }));
    const run = node.run;
    if (node.kind === 'run') {
      const out: RunsNode[] = [];
      if (run.reason && (run.status === 'failed' || run.status === 'interrupted')) out.push({ kind: 'reason', run });
      if (run.configPath) out.push({ kind: 'config', run });
      for (const [label, description] of summaryLines(run)) out.push({ kind: 'summary', run, label, description });
      out.push({ kind: 'checkpoints', run });
      return out;
    }
    if (node.kind === 'checkpoints')
      return [...run.checkpoints].reverse().map((checkpoint) => ({ kind: 'checkpoint', run, checkpoint }));
    return [];
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    const run = node.run;
    switch (node.kind) {
      case 'run': {
        const item = new vscode.TreeItem(run.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `run:${run.runDir ?? run.id}`;
        item.description = runDescription(run);
        const [icon, color] = STATUS_ICON[run.status];
        item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
        item.contextValue = runContextValue(run);
        item.tooltip = tooltip(run);
        item.command = { command: 'finetune.openMetrics', title: 'Open metrics', arguments: [run.id] };
        return item;
      }
      case 'reason': {
        const item = new vscode.TreeItem(run.reason!.split('\n')[0]!, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('info');
        item.tooltip = run.reason;
        item.command = { command: 'finetune.showTrainerOutput', title: 'Show trainer output', arguments: [run.id] };
        return item;
      }
      case 'config': {
        const item = new vscode.TreeItem(path.basename(run.configPath!), vscode.TreeItemCollapsibleState.None);
        item.resourceUri = vscode.Uri.file(run.configPath!);
        item.iconPath = new vscode.ThemeIcon('settings-gear');
        item.description = 'config';
        item.command = { command: 'vscode.open', title: 'Open config', arguments: [vscode.Uri.file(run.configPath!)] };
        return item;
      }
      case 'summary': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.description;
        item.iconPath = new vscode.ThemeIcon('graph-line');
        return item;
      }
      case 'checkpoints': {
        const item = new vscode.TreeItem(
          'Checkpoints',
          run.checkpoints.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
        );
        item.id = `ckpts:${run.runDir ?? run.id}`;
        item.description = run.checkpoints.length ? String(run.checkpoints.length) : 'none yet';
        item.iconPath = new vscode.ThemeIcon('archive');
        return item;
      }
      case 'checkpoint': {
        const c = node.checkpoint;
        const item = new vscode.TreeItem(`step ${c.step}`, vscode.TreeItemCollapsibleState.None);
        item.id = `ckpt:${c.path}`;
        item.description = [c.isBest ? 'best' : '', c.isLast ? 'last' : ''].filter(Boolean).join(', ');
        item.iconPath = new vscode.ThemeIcon(c.isBest ? 'star-full' : 'save');
        item.resourceUri = vscode.Uri.file(c.path);
        item.tooltip = c.path;
        item.contextValue = `checkpoint${run.configPath ? ' resumable' : ''}`;
        return item;
      }
    }
  }
}

function summaryLines(run: RunInfo): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  const progress = run.totalSteps ? `step ${run.step} of ${run.totalSteps}` : `step ${run.step}`;
  out.push([progress, run.epoch !== undefined ? `epoch ${formatMetric(run.epoch)}` : undefined]);
  if (run.loss !== undefined && run.loss !== null) out.push([`loss ${formatMetric(run.loss)}`, 'training']);
  if (run.lastEval) {
    const evals = Object.entries(run.lastEval).map(([k, v]) => `${normaliseMetricName(k)} ${formatMetric(v)}`);
    if (evals.length) out.push([evals.join(', '), 'validation']);
  }
  if (run.bestMetric) out.push([`best ${run.bestMetric.name} ${formatMetric(run.bestMetric.value)}`, undefined]);
  if (run.startedAt && run.endedAt) out.push([`took ${formatDuration(run.endedAt - run.startedAt)}`, run.backend]);
  else if (run.backend) out.push([`backend ${run.backend}`, undefined]);
  return out;
}

/** run.json is data from disk: every field is escaped (markdown.ts), and the Markdown is neither trusted nor HTML. */
function tooltip(run: RunInfo): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.isTrusted = false;
  md.supportHtml = false;
  const { title, details } = runTooltipMarkdown(run);
  md.appendMarkdown(title);
  if (run.reason) md.appendText(run.reason + '\n\n');
  md.appendMarkdown(details);
  return md;
}
