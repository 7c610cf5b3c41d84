/** The checkpoint explorer's host: lists a run's checkpoints and carries out the actions on them. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { configBaseName } from '../../common/config/configFile';
import { decidingMetric } from '../../common/metricNames';
import { checkpointCommands } from '../../common/webviewProtocol';
import type { CheckpointsState, CommandHandlers, Evaluation, Prediction } from '../../common/webviewProtocol';
import { freeConfigPath, writeNewFile } from '../configWriter';
import type { Services } from '../ctx';
import { readRunConfig } from '../runConfig';
import { FINISHED_STATUSES } from '../runModel';
import type { RunInfo } from '../runModel';
import { PanelHost } from './panelHost';
import {
  evaluateColumnArgs,
  forkConfigText,
  maxLengthArgs,
  cardForOlderCheckpoint,
  readCheckpoints,
  tryTextsProblem,
} from './checkpointStore';
import { readRunSeries } from './runHistory';
import { checkpointStep } from '../../common/runFolder/checkpoints';
import { MODEL_CARD_FILE } from '../../common/runFolder/modelCard';
import { requireTrust } from '../workspaceTrust';
import { evaluateCheckpoint, predictCheckpoint } from './trainerCommand';
import type { TrainerProcess } from './trainerCommand';

/** Files an exported model needs; optimizer state and trainer_state.json stay behind. */
const TRAINING_ONLY = new Set(['optimizer.safetensors', 'trainer_state.json']);

type Handlers = CommandHandlers<typeof checkpointCommands>;

export class CheckpointsPanel extends PanelHost<typeof checkpointCommands> {
  constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly services: Services,
    readonly runId: string,
  ) {
    super(panel, extensionUri, 'checkpointsPanel', checkpointCommands, { kind: 'checkpoints', runId });
    const sub = services.index.onDidChange(() => void this.refresh());
    this.onDidDispose(() => sub.dispose());
  }

  private run(): RunInfo & { runDir: string } {
    const r = this.services.index.get(this.runId);
    if (!r?.runDir) throw new Error(`Run ${this.runId} has no folder on disk (yet).`);
    return { ...r, runDir: r.runDir };
  }

  protected async snapshot(): Promise<CheckpointsState> {
    const r = this.services.index.get(this.runId);
    if (!r?.runDir)
      return { runId: this.runId, runName: r?.name ?? this.runId, runDir: '', live: !!r?.live, checkpoints: [] };
    const config = await readRunConfig(r.runDir, r.configPath);
    const series = await readRunSeries(r.runDir, r.id, r.name);
    const limit = config?.config.training.save_total_limit;
    const best = r.checkpoints.find((c) => c.isBest)?.path ?? series.done?.bestCheckpoint;
    // "Deleted next" only where a next checkpoint can come: not after a run that completed or stopped early.
    const rotating = limit !== undefined && !FINISHED_STATUSES.includes(r.status);
    const checkpoints = await readCheckpoints(r.runDir, {
      ...(best ? { bestPath: best } : {}),
      ...(rotating ? { saveTotalLimit: limit } : {}),
      evals: series.evals,
    });
    const plan = series.plan;
    const sources = { ...(plan ? { plan } : {}), run: r, ...(config ? { config: config.best } : {}) };
    const metric = decidingMetric(sources).metric;
    return {
      runId: this.runId,
      runName: r.name,
      runDir: r.runDir,
      live: r.live,
      ...(limit !== undefined ? { saveTotalLimit: limit } : {}),
      metricForBest: metric,
      checkpoints,
      ...(series.plan?.labels ? { labels: series.plan.labels } : {}),
      ...(config ? { columns: config.columns } : {}),
    };
  }

  /** Only folders of this run are acted on, whatever the page sends. */
  private checkpointPath(p: string): string {
    const { runDir } = this.run();
    const abs = path.resolve(p);
    const inRun = path.dirname(abs) === path.resolve(runDir) && checkpointStep(path.basename(abs)) !== undefined;
    if (!inRun) throw new Error(`${p} is not a checkpoint of run ${this.runId}`);
    return abs;
  }

  private trainer(cwd: string): TrainerProcess {
    return { trainerPath: this.services.trainer.path, cwd, env: this.services.trainer.env() };
  }

  protected readonly handlers: Handlers = {
    resume: async ({ path: p }) => this.resume(this.checkpointPath(p)),
    fork: async ({ path: p }) => this.fork(this.checkpointPath(p)),
    evaluate: async ({ path: p }) => this.evaluate(this.checkpointPath(p)),
    try: async ({ path: p, text, textPair }) => this.predict(this.checkpointPath(p), text, textPair),
    export: async ({ path: p }) => this.export(this.checkpointPath(p)),
    delete: async ({ path: p }) => this.delete(this.checkpointPath(p)),
    reveal: async ({ path: p }) => {
      await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(this.checkpointPath(p)));
    },
  };

  private async resume(ckpt: string): Promise<undefined> {
    const run = this.run();
    if (!run.configPath) {
      throw new Error(`Run ${run.name} does not record its config file, so it cannot be resumed from here.`);
    }
    const started = this.services.manager.start(run.configPath, { resumeFrom: ckpt, name: run.name });
    await vscode.commands.executeCommand('finetune.openMetrics', started.id);
  }

  private async fork(ckpt: string): Promise<undefined> {
    const run = this.run();
    if (!run.configPath) throw new Error(`Run ${run.name} does not record its config file.`);
    const text = await fs.readFile(run.configPath, 'utf8');
    const dir = path.dirname(run.configPath);
    const target = await freeConfigPath(dir, `${configBaseName(run.configPath)}-from-${path.basename(ckpt)}`);
    await writeNewFile(target, forkConfigText(text, dir, ckpt));
    await vscode.window.showTextDocument(vscode.Uri.file(target), { preview: false });
  }

  /** On a data file the user picks, with the run's own columns. */
  private async evaluate(ckpt: string): Promise<Evaluation | undefined> {
    // Restricted Mode starts no trainer (workspaceTrust.ts), and evaluating forks one.
    if (!(await requireTrust('Evaluating a checkpoint'))) return undefined;
    const run = this.run();
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Evaluate on this file',
      filters: { Data: ['csv', 'tsv', 'jsonl', 'json'] },
    });
    const file = picked?.[0]?.fsPath;
    if (!file) return undefined;
    const flat = (await readRunConfig(run.runDir, run.configPath))?.flat ?? {};
    const args = [...evaluateColumnArgs(flat), ...maxLengthArgs(flat)];
    const title = `Evaluating ${path.basename(ckpt)} on ${path.basename(file)}…`;
    const value = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () =>
      evaluateCheckpoint(this.trainer(run.runDir), ckpt, file, args),
    );
    return { ...value, file };
  }

  private async predict(ckpt: string, text: string, textPair: string | undefined): Promise<Prediction> {
    if (!(await requireTrust('Trying a checkpoint'))) {
      throw new Error('Trying a checkpoint starts a trainer, which needs a trusted workspace (Restricted Mode).');
    }
    const run = this.run();
    const config = await readRunConfig(run.runDir, run.configPath);
    const texts = { text, ...(textPair !== undefined ? { textPair } : {}) };
    const problem = tryTextsProblem(texts, config?.columns);
    if (problem) throw new Error(problem);
    const p = await predictCheckpoint(this.trainer(run.runDir), ckpt, texts, maxLengthArgs(config?.flat ?? {}));
    return { label: p.label, probabilities: p.probabilities };
  }

  private async export(ckpt: string): Promise<undefined> {
    const run = this.run();
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Export here',
    });
    if (!picked?.[0]) return;
    const target = path.join(picked[0].fsPath, `${run.name}-${path.basename(ckpt)}`.replace(/[^\w.-]+/g, '-'));
    // Never into an existing folder: mkdir without `recursive` fails if it is there. The files go into a hidden
    // sibling first, so that the folder, once it has its name, is complete.
    await fs.mkdir(target);
    const partial = path.join(path.dirname(target), `.${path.basename(target)}.partial-${process.pid}`);
    try {
      await fs.mkdir(partial);
      await copyForExport(ckpt, partial, run);
      await fs.rmdir(target);
      await fs.rename(partial, target);
    } catch (e) {
      await fs.rm(partial, { recursive: true, force: true });
      await fs.rmdir(target).catch(() => undefined);
      throw e;
    }
    const done = `Exported ${path.basename(ckpt)} to ${target}.`;
    void vscode.window.showInformationMessage(done, 'Reveal').then((a) => {
      if (a) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(target));
    });
  }

  private async delete(ckpt: string): Promise<undefined> {
    const run = this.run();
    const question = `Delete ${path.basename(ckpt)} of run ${run.name}? Its weights are removed from disk; this cannot be undone.`;
    const answer = await vscode.window.showWarningMessage(question, { modal: true }, 'Delete');
    if (answer !== 'Delete') return;
    await fs.rm(ckpt, { recursive: true, force: true });
    await this.refresh();
  }
}

/** The model folder of a checkpoint, without its training state, and its model card. */
async function copyForExport(ckpt: string, into: string, run: RunInfo): Promise<void> {
  for (const f of await fs.readdir(ckpt)) {
    if (TRAINING_ONLY.has(f)) continue;
    await fs.cp(path.join(ckpt, f), path.join(into, f), { recursive: true, errorOnExist: true, force: false });
  }
  // A checkpoint carries its model card (copied above); an older one gets the same card made now.
  if (await fs.stat(path.join(ckpt, MODEL_CARD_FILE)).catch(() => undefined)) return;
  const configFiles = [run.runDir && path.join(run.runDir, 'config.resolved.yaml'), run.configPath];
  const card = await cardForOlderCheckpoint(ckpt, run.name, configFiles);
  if (card !== undefined) await writeNewFile(path.join(into, MODEL_CARD_FILE), card);
}
