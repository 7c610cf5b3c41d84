/** The checkpoint explorer's host: lists a run's checkpoints and carries out the actions on them. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { checkpointCommands, evaluationGuard, predictionGuard } from '../../common/webviewProtocol';
import type { CheckpointsState, Evaluation, Prediction } from '../../common/webviewProtocol';
import { freeConfigPath, writeNewFile } from '../configWriter';
import { FINISHED_STATUSES } from '../runModel';
import { PanelHost } from './panelHost';
import type { PanelServices } from './panelHost';
import { evaluateColumnArgs, forkConfigText, modelCard, readCheckpoints } from './checkpointStore';
import { readRunConfig, readRunSeries } from './runHistory';
import { runTrainerCommand } from './trainerCli';

/** Files an exported model needs; optimizer state and trainer_state.json stay behind. */
const TRAINING_ONLY = new Set(['optimizer.safetensors', 'trainer_state.json']);

export class CheckpointsPanel extends PanelHost {
  constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private readonly services: PanelServices, readonly runId: string) {
    super(panel, extensionUri, 'checkpointsPanel', checkpointCommands, { kind: 'checkpoints', runId });
    const subs = [
      services.runs.onDidChange(() => void this.refresh()),
    ];
    this.onDidDispose(() => subs.forEach((d) => d.dispose()));
  }

  private run() {
    const r = this.services.runs.get(this.runId);
    if (!r?.runDir) throw new Error(`Run ${this.runId} has no folder on disk (yet).`);
    return { ...r, runDir: r.runDir };
  }

  protected async snapshot(): Promise<CheckpointsState> {
    const r = this.services.runs.get(this.runId);
    if (!r?.runDir) return { runId: this.runId, runName: r?.name ?? this.runId, runDir: '', live: !!r?.live, checkpoints: [] };
    const config = await readRunConfig(r.runDir, r.configPath);
    const series = await readRunSeries(r.runDir, r.id, r.name);
    const limit = config['training.save_total_limit'];
    const metric = config['training.metric_for_best_model'];
    const best = r.checkpoints.find((c) => c.isBest)?.path ?? series.done?.bestCheckpoint;
    return {
      runId: this.runId,
      runName: r.name,
      runDir: r.runDir,
      live: r.live,
      ...(typeof limit === 'number' ? { saveTotalLimit: limit } : {}),
      ...(typeof metric === 'string' ? { metricForBest: metric } : {}),
      // "Deleted next" only where a next checkpoint can come: not after a run that completed or stopped early.
      checkpoints: await readCheckpoints(r.runDir, { ...(best ? { bestPath: best } : {}), ...(typeof limit === 'number' && !FINISHED_STATUSES.includes(r.status) ? { saveTotalLimit: limit } : {}), evals: series.evals }),
      ...(series.plan?.labels ? { labels: series.plan.labels } : {}),
    };
  }

  /** Only folders of this run are acted on, whatever the page sends. */
  private checkpointPath(p: string): string {
    const { runDir } = this.run();
    const abs = path.resolve(p);
    if (path.dirname(abs) !== path.resolve(runDir) || !/^checkpoint-\d+$/.test(path.basename(abs))) throw new Error(`${p} is not a checkpoint of run ${this.runId}`);
    return abs;
  }

  protected async handle(name: string, args: unknown): Promise<unknown> {
    const ckpt = this.checkpointPath((args as { path: string }).path);
    const run = this.run();
    switch (name) {
      case 'resume': {
        if (!run.configPath) throw new Error(`Run ${run.name} does not record its config file, so it cannot be resumed from here.`);
        const started = this.services.manager.start(run.configPath, { resumeFrom: ckpt, name: run.name });
        await vscode.commands.executeCommand('finetune.openMetrics', started.id);
        return true;
      }
      case 'fork': {
        if (!run.configPath) throw new Error(`Run ${run.name} does not record its config file.`);
        const text = await fs.readFile(run.configPath, 'utf8');
        const dir = path.dirname(run.configPath);
        const base = `${path.basename(run.configPath).replace(/\.finetune\.ya?ml$/i, '')}-from-${path.basename(ckpt)}`;
        const target = await freeConfigPath(dir, base);
        await writeNewFile(target, forkConfigText(text, dir, ckpt));
        await vscode.window.showTextDocument(vscode.Uri.file(target), { preview: false });
        return target;
      }
      case 'evaluate': {
        const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Evaluate on this file', filters: { Data: ['csv', 'tsv', 'jsonl', 'json'] } });
        if (!picked?.[0]) return undefined;
        const file = picked[0].fsPath;
        const columns = evaluateColumnArgs(await readRunConfig(run.runDir, run.configPath));
        const args = ['evaluate', '--model', ckpt, '--data', file, ...columns];
        const value = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Evaluating ${path.basename(ckpt)} on ${path.basename(file)}…` }, () =>
          runTrainerCommand(this.services.cliPath, args, run.runDir),
        );
        const problem = evaluationGuard.check(value, 'evaluation');
        if (problem) throw new Error(`the trainer's evaluation is malformed: ${problem}`);
        return { ...(value as Evaluation), file };
      }
      case 'try': {
        const value = await runTrainerCommand(this.services.cliPath, ['predict', '--model', ckpt, '--text', (args as { text: string }).text], run.runDir, 120_000);
        const problem = predictionGuard.check(value, 'prediction');
        if (problem) throw new Error(`the trainer's prediction is malformed: ${problem}`);
        const p = value as Prediction;
        return { label: p.label, probabilities: p.probabilities };
      }
      case 'export': {
        const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Export here' });
        if (!picked?.[0]) return undefined;
        const target = path.join(picked[0].fsPath, `${run.name}-${path.basename(ckpt)}`.replace(/[^\w.-]+/g, '-'));
        // Never into an existing folder: mkdir without `recursive` fails if it is there.
        await fs.mkdir(target);
        for (const f of await fs.readdir(ckpt)) if (!TRAINING_ONLY.has(f)) await fs.cp(path.join(ckpt, f), path.join(target, f), { recursive: true, errorOnExist: true, force: false });
        const state = await this.snapshot();
        const info = state.checkpoints.find((c) => c.path === ckpt);
        const config = await readRunConfig(run.runDir, run.configPath);
        await writeNewFile(path.join(target, 'README.md'), modelCard({ name: `${run.name} (${path.basename(ckpt)})`, ...(info?.step !== undefined ? { step: info.step } : {}), ...(info?.epoch !== undefined ? { epoch: info.epoch } : {}), config, metrics: info?.metrics ?? {}, ...(state.labels ? { labels: state.labels } : {}), generatedBy: 'Fine-Tune Studio' }));
        void vscode.window.showInformationMessage(`Exported ${path.basename(ckpt)} to ${target}.`, 'Reveal').then((a) => a && vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(target)));
        return target;
      }
      case 'delete': {
        const answer = await vscode.window.showWarningMessage(`Delete ${path.basename(ckpt)} of run ${run.name}? Its weights are removed from disk; this cannot be undone.`, { modal: true }, 'Delete');
        if (answer !== 'Delete') return false;
        await fs.rm(ckpt, { recursive: true, force: true });
        await this.refresh();
        return true;
      }
      case 'reveal':
        return vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(ckpt));
    }
    return undefined;
  }
}
