/**
 * The "Fine-Tune" commands. Each command that needs a run finds one from its argument (a run id, a tree node,
 * a config URI) or from the active runs, and explains itself when there is none instead of failing.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isConfigFile } from '../common/config/configFile';
import type { Services as Extension } from './ctx';
import { writeWizardConfig } from './configWriter';
import { readConfigText } from './runConfig';
import { diagnose, formatFindings, probeEnvironment, autoBackend, pytorchLines } from './environment';
import { toUserError } from '../common/errors';
import { probePython } from '../files/pythonProbe';
import { isActive } from './runModel';
import type { CheckpointInfo, RunInfo } from './runModel';
import type { RunsNode } from './runsTree';
import { CONFIG_GLOB } from './runsIndex';
import { backendArgs, readSettings, SETTINGS_SECTION } from './settings';
import { runWizard } from './wizard';
import { requireTrust } from './workspaceTrust';
import { plural } from '../common/plural';

type RunArg = string | RunsNode | vscode.Uri | undefined;

function argRun(ext: Extension, arg: RunArg): RunInfo | undefined {
  if (typeof arg === 'string') return ext.index.get(arg);
  if (arg instanceof vscode.Uri) return ext.manager.activeRuns().find((r) => r.configPath === arg.fsPath);
  if (arg && typeof arg === 'object' && 'run' in arg) return ext.index.get(arg.run.runDir ?? arg.run.id) ?? arg.run;
  return undefined;
}

/** The run a command acts on: its argument, the only candidate, or the user's pick; undefined after explaining. */
async function pickRun(
  ext: Extension,
  arg: RunArg,
  what: string,
  filter: (r: RunInfo) => boolean,
  none: string,
): Promise<RunInfo | undefined> {
  const given = argRun(ext, arg);
  if (given) return given;
  const candidates = ext.index.list().filter(filter);
  if (candidates.length === 1) return candidates[0];
  if (!candidates.length) {
    const choice = await vscode.window.showInformationMessage(none, 'Start run', 'Fine-tune model');
    if (choice === 'Start run') await vscode.commands.executeCommand('finetune.startRun');
    if (choice === 'Fine-tune model') await vscode.commands.executeCommand('finetune.fineTuneModel');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    candidates.map((r) => ({
      label: r.name,
      description: `${r.status}${r.totalSteps ? ` · ${r.step}/${r.totalSteps}` : ''}`,
      detail: r.runDir,
      run: r,
    })),
    { title: what, placeHolder: 'Which run?' },
  );
  return pick?.run;
}

/** The file of the focused editor tab; right after activation `activeTextEditor` can still be undefined. */
function activeFile(): vscode.Uri | undefined {
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return vscode.window.activeTextEditor?.document.uri ?? (tab instanceof vscode.TabInputText ? tab.uri : undefined);
}

async function pickConfig(): Promise<vscode.Uri | undefined> {
  const active = activeFile();
  if (active && isConfigFile(active.fsPath)) return active;
  const configs = await vscode.workspace.findFiles(CONFIG_GLOB, '{**/node_modules/**,**/.finetune/**}', 200);
  if (configs.length === 1) return configs[0];
  if (!configs.length) {
    const choice = await vscode.window.showInformationMessage(
      'There is no *.finetune.yaml in the workspace yet. "Fine-tune model" writes one for your data.',
      'Fine-tune model',
      'Train from scratch',
    );
    if (choice === 'Fine-tune model') await vscode.commands.executeCommand('finetune.fineTuneModel');
    if (choice === 'Train from scratch') await vscode.commands.executeCommand('finetune.trainFromScratch');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    configs.map((u) => ({
      label: path.basename(u.fsPath),
      description: vscode.workspace.asRelativePath(path.dirname(u.fsPath)),
      uri: u,
    })),
    { title: 'Start run', placeHolder: 'Which config?' },
  );
  return pick?.uri;
}

async function startConfig(ext: Extension, uri: vscode.Uri, resumeFrom?: string): Promise<RunInfo | undefined> {
  if (!(await requireTrust(resumeFrom ? 'Resuming a run' : 'Starting a run'))) return undefined;
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
  if (doc?.isDirty) await doc.save();
  const already = ext.manager.activeRuns().find((r) => r.configPath === uri.fsPath);
  if (already && !resumeFrom) {
    const choice = await vscode.window.showWarningMessage(
      `"${already.name}" is already ${already.status}.`,
      'Start another',
      'Stop it',
    );
    if (choice === 'Stop it') ext.manager.stop(already.id);
    if (choice !== 'Start another') return undefined;
  }
  const text = await fs.readFile(uri.fsPath, 'utf8').catch(() => '');
  const pref = readSettings((k) => vscode.workspace.getConfiguration(SETTINGS_SECTION, uri).get(k)).backend;
  // Named before the trainer's plan says it, so that the runs view can show "best" from the first evaluation.
  const metric = readConfigText(text).best.metric;
  const run = ext.manager.start(uri.fsPath, {
    extraArgs: backendArgs(text, pref),
    metricForBestModel: metric,
    ...(resumeFrom ? { resumeFrom } : {}),
  });
  if (run.status === 'queued') {
    const ahead = ext.manager.activeRuns().filter((r) => r.id !== run.id).length;
    void vscode.window.showInformationMessage(
      `"${run.name}" is queued behind ${plural(ahead, 'run')} (setting "finetune.maxParallelRuns").`,
    );
  }
  return run;
}

async function wizardCommand(ext: Extension, mode: 'fine-tune' | 'from-scratch', arg?: vscode.Uri): Promise<void> {
  // From an open config (editor title, palette with a config focused) "Fine-tune model" means "train this".
  const active = arg ?? vscode.window.activeTextEditor?.document.uri;
  if (mode === 'fine-tune' && active && isConfigFile(active.fsPath)) {
    await startConfig(ext, active);
    return;
  }
  const answers = await runWizard(mode, ext.index.list(), arg);
  if (!answers) return;
  let file: string;
  try {
    file = await writeWizardConfig(answers);
  } catch (e) {
    void vscode.window.showErrorMessage(
      `Could not write the config next to ${answers.dataFile}: ${(e as Error).message}`,
    );
    return;
  }
  const doc = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(doc, { preview: false });
  const choice = await vscode.window.showInformationMessage(
    `Wrote ${path.basename(file)}. Review it (hover a key for help), then start training.`,
    'Start run',
  );
  if (choice === 'Start run') await startConfig(ext, vscode.Uri.file(file));
}

async function resume(ext: Extension, arg: RunArg): Promise<void> {
  let checkpoint: CheckpointInfo | undefined;
  if (arg && typeof arg === 'object' && 'kind' in arg && arg.kind === 'checkpoint') checkpoint = arg.checkpoint;
  const run = await pickRun(
    ext,
    arg,
    'Resume run from checkpoint',
    (r) => !isActive(r.status) && r.checkpoints.length > 0 && r.status !== 'completed',
    'No stopped, failed or interrupted run has a checkpoint to resume from.',
  );
  if (!run) return;
  if (!run.configPath) {
    void vscode.window.showErrorMessage(
      `"${run.name}" does not record its config file, so it cannot be resumed from here. Set \`training.resume_from_checkpoint\` in its config instead.`,
    );
    return;
  }
  if (!checkpoint) {
    if (!run.checkpoints.length) {
      void vscode.window.showInformationMessage(
        `"${run.name}" saved no checkpoint, so there is nothing to resume; start it again instead.`,
      );
      return;
    }
    const last = run.checkpoints[run.checkpoints.length - 1]!;
    if (run.checkpoints.length === 1) checkpoint = last;
    else {
      const pick = await vscode.window.showQuickPick(
        [...run.checkpoints].reverse().map((c) => ({
          label: `step ${c.step}`,
          description: [c.isBest ? 'best' : '', c.isLast ? 'last' : ''].filter(Boolean).join(', '),
          c,
        })),
        { title: `Resume "${run.name}"`, placeHolder: 'From which checkpoint?' },
      );
      if (!pick) return;
      checkpoint = pick.c;
    }
  }
  await startConfig(ext, vscode.Uri.file(run.configPath), checkpoint.path);
}

async function deleteRun(ext: Extension, arg: RunArg): Promise<void> {
  const run = await pickRun(
    ext,
    arg,
    'Delete run',
    (r) => !isActive(r.status) && !!r.runDir,
    'No finished run to delete.',
  );
  if (!run?.runDir) return;
  if (isActive(run.status)) {
    void vscode.window.showWarningMessage(`"${run.name}" is ${run.status}: stop it before deleting it.`);
    return;
  }
  const ok = await vscode.window.showWarningMessage(
    `Delete run "${run.name}" and its ${plural(run.checkpoints.length, 'checkpoint')}?`,
    { modal: true, detail: `${run.runDir}\nThe folder goes to the trash where the system has one.` },
    'Delete',
  );
  if (ok !== 'Delete') return;
  try {
    await vscode.workspace.fs.delete(vscode.Uri.file(run.runDir), { recursive: true, useTrash: true });
  } catch {
    await fs.rm(run.runDir, { recursive: true, force: true });
  }
  ext.ctx.disposeRunScope(run.id);
  ext.index.forget(run.runDir);
}

async function checkEnvironment(ext: Extension): Promise<void> {
  const gpuSetting = readSettings((k) => vscode.workspace.getConfiguration(SETTINGS_SECTION).get(k)).gpu;
  const findings = diagnose(await probeEnvironment(ext.ctx.extensionPath, gpuSetting));
  const out = ext.output;
  out.appendLine(`\n== Training environment (${new Date().toLocaleString()}) ==`);
  out.appendLine(formatFindings(findings));
  const python = await probePython({ ...process.env, ...ext.trainer.env() }).catch((e: unknown) => toUserError(e));
  out.appendLine(['', ...pytorchLines(python)].join('\n'));
  const gpu = findings.find((f) => f.backend === 'webgpu')!;
  const msg = `Training runs on ${autoBackend(findings)}. GPU (WebGPU): ${gpu.summary}.`;
  const choice = await vscode.window.showInformationMessage(msg, 'Show details');
  if (choice) out.show(true);
}

export function registerCommands(ext: Extension): void {
  const reg = (id: string, fn: (...args: never[]) => unknown) =>
    ext.ctx.push(vscode.commands.registerCommand(id, fn as (...args: unknown[]) => unknown));
  reg('finetune.fineTuneModel', (arg?: vscode.Uri) => wizardCommand(ext, 'fine-tune', arg));
  reg('finetune.trainFromScratch', (arg?: vscode.Uri) => wizardCommand(ext, 'from-scratch', arg));
  reg('finetune.startRun', async (arg?: vscode.Uri) => {
    const uri = arg instanceof vscode.Uri ? arg : await pickConfig();
    if (uri) await startConfig(ext, uri);
  });
  const activeFilter = (r: RunInfo) => r.live && isActive(r.status);
  const noActive = 'No run is active in this window. Start one from a *.finetune.yaml ("▶ Start run").';
  reg('finetune.stopRun', async (arg?: RunArg) => {
    const run = await pickRun(ext, arg, 'Stop run', activeFilter, noActive);
    if (run && !ext.manager.stop(run.id))
      void vscode.window.showInformationMessage(`"${run.name}" is not running (${run.status}).`);
  });
  reg('finetune.cancelRun', async (arg?: RunArg) => {
    const run = await pickRun(ext, arg, 'Cancel run', activeFilter, noActive);
    if (run && !ext.manager.cancel(run.id))
      void vscode.window.showInformationMessage(`"${run.name}" is not running (${run.status}).`);
  });
  reg('finetune.saveCheckpoint', async (arg?: RunArg) => {
    const run = await pickRun(ext, arg, 'Save checkpoint now', (r) => r.live && r.status === 'running', noActive);
    if (!run) return;
    if (ext.manager.saveCheckpointNow(run.id))
      void vscode.window.setStatusBarMessage(`$(save) ${run.name}: saving a checkpoint after this step…`, 4000);
    else
      void vscode.window.showInformationMessage(
        `"${run.name}" is ${run.status}; a checkpoint can be saved only while it trains.`,
      );
  });
  reg('finetune.resumeRun', (arg?: RunArg) => resume(ext, arg));
  reg('finetune.openRunFolder', async (arg?: RunArg) => {
    const run = await pickRun(ext, arg, 'Open run folder', (r) => !!r.runDir, 'No run has a folder yet.');
    if (!run?.runDir) return;
    const uri = vscode.Uri.file(run.runDir);
    if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
    else await vscode.commands.executeCommand('revealFileInOS', uri);
  });
  reg('finetune.revealRun', async (arg?: RunArg) => {
    const run = await pickRun(ext, arg, 'Reveal in explorer', (r) => !!r.runDir, 'No run has a folder yet.');
    if (run?.runDir) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(run.runDir));
  });
  reg('finetune.showTrainerOutput', () => ext.output.show(true));
  reg('finetune.checkEnvironment', () => checkEnvironment(ext));
  reg('finetune.deleteRun', (arg?: RunArg) => deleteRun(ext, arg));
  reg('finetune.refreshRuns', () => ext.index.refresh());
}

/** Fallbacks for the panel commands, registered only when the panels did not register their own. */
