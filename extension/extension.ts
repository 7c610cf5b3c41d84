/**
 * Activation wires the services and views; nothing heavy happens here. The language client is loaded from its own
 * bundle on the first `*.finetune.yaml`, trainers are forked only when a run starts, and the runs folders are read
 * after activation has returned.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TrainerMessage } from '../common/protocol';
import { RunCodeLensProvider } from './codeLens';
import { HubToken, registerHubTokenCommands } from './hubToken';
import { registerCommands } from './commands';
import { Ctx } from './ctx';
import { registerPanels } from './panels/registerPanels';
import type { Services } from './ctx';
import { RunManager } from './runManager';
import { formatMetric, isActive } from './runModel';
import type { RunInfo } from './runModel';
import { RunsIndex } from './runsIndex';
import { RunsTreeProvider } from './runsTree';
import { readSettings, SETTINGS_SECTION, trainerEnv } from './settings';
import { RunStatusBar } from './statusBar';
import { PythonInterpreter } from './pythonInterpreter';
import { CONFIG_FILE_GLOB, isConfigFile } from '../common/config/configFile';
import { plural } from '../common/plural';

let services: Services | undefined;
let languageClient: Promise<{ dispose(): Promise<void> } | undefined> | undefined;

/** How long VS Code's shutdown waits for trainers to save their checkpoint. */
const SHUTDOWN_WAIT_MS = 8000;

export function activate(context: vscode.ExtensionContext): Services {
  const ctx = new Ctx(context);
  const output = ctx.push(vscode.window.createOutputChannel('Fine-Tune Studio'));
  const settings = () => readSettings((k) => vscode.workspace.getConfiguration(SETTINGS_SECTION).get(k));
  const hubToken = ctx.push(new HubToken(context.secrets));
  const python = ctx.push(new PythonInterpreter());
  void python.start();
  const trainer = {
    path: path.join(context.extensionPath, 'dist', 'trainer.js'),
    // The stored Hub token travels in the environment only (hubTokenEnv.ts), never in argv.
    env: () => ({ ...trainerEnv(settings(), python.selected), ...hubToken.env() }),
  };
  const manager = ctx.push(
    new RunManager({
      trainerPath: trainer.path,
      maxParallel: () => settings().maxParallelRuns,
      stopGraceMs: () => settings().stopGracePeriodSeconds * 1000,
      env: trainer.env,
      // Restricted Mode: no trainer starts (workspaceTrust.ts); trust can be granted while the window is open.
      isTrusted: () => vscode.workspace.isTrusted,
      log: (run, stream, line) =>
        output.appendLine(`[${run.name}] ${stream === 'stderr' ? '' : stream === 'host' ? '» ' : 'stdout: '}${line}`),
    }),
  );
  const index = ctx.push(new RunsIndex(manager, (line) => output.appendLine(line)));
  const s: Services = { ctx, manager, index, output, trainer };
  services = s;

  ctx.push(manager.onDidReceiveMessage((e) => logMessage(s, e.runId, e.message)));
  ctx.push(manager.onDidEndRun((run) => void announceEnd(s, run)));
  ctx.push(manager.onDidChangeRun(() => updateContextKeys(s)));
  ctx.push(index.onDidChange(() => updateContextKeys(s)));
  ctx.push(vscode.workspace.onDidGrantWorkspaceTrust(() => onTrustGranted(s)));

  const tree = ctx.push(new RunsTreeProvider(index));
  ctx.push(vscode.window.createTreeView('finetune.runs', { treeDataProvider: tree, showCollapseAll: true }));
  ctx.push(new RunStatusBar(manager));
  const lenses = ctx.push(new RunCodeLensProvider(manager));
  const configs = [{ language: 'finetune-yaml' }, { pattern: CONFIG_FILE_GLOB }];
  ctx.push(vscode.languages.registerCodeLensProvider(configs, lenses));

  registerCommands(s);
  registerHubTokenCommands(ctx, hubToken);
  registerPanels(s);

  // The language server starts with the first config the user opens, not with the extension.
  const maybeStartClient = (doc: vscode.TextDocument) => {
    const isConfig = doc.languageId === 'finetune-yaml' || isConfigFile(doc.uri.fsPath);
    if (!languageClient && isConfig) languageClient = startClient(context.extensionPath);
  };
  ctx.push(vscode.workspace.onDidOpenTextDocument(maybeStartClient));
  vscode.workspace.textDocuments.forEach(maybeStartClient);

  updateContextKeys(s);
  void index.refresh();
  return s;
}

export async function deactivate(): Promise<void> {
  const s = services;
  services = undefined;
  if (!s) return;
  // Each trainer saves a checkpoint and exits; VS Code waits for this promise, so the wait is bounded.
  await s.manager.stopAll(SHUTDOWN_WAIT_MS).catch(() => undefined);
  const client = await languageClient?.catch(() => undefined);
  languageClient = undefined;
  await client?.dispose().catch(() => undefined);
  s.ctx.dispose();
}

async function startClient(extensionPath: string): Promise<{ dispose(): Promise<void> } | undefined> {
  const log = vscode.window.createOutputChannel('Fine-Tune Studio Language Server', { log: true });
  try {
    // A separate bundle, required by path so that esbuild leaves it out of this one.
    const mod = require(path.join(__dirname, 'languageClient.js')) as typeof import('./languageClient');
    const settings = readSettings((k) => vscode.workspace.getConfiguration(SETTINGS_SECTION).get(k));
    const runsFolder = settings.runsFolder;
    // No Hub token: the server never makes a request.
    const env = trainerEnv(settings);
    const client = await mod.startLanguageClient(extensionPath, log, runsFolder ? { runsFolder } : {}, env);
    return { dispose: async () => (await client.dispose(), log.dispose()) };
  } catch (e) {
    log.error(`The language server could not start: ${(e as Error).message}`);
    return undefined;
  }
}

function logMessage(s: Services, runId: string, m: TrainerMessage): void {
  const run = s.manager.getRun(runId);
  const p = `[${run?.name ?? runId}] `;
  switch (m.type) {
    case 'hello':
      s.output.appendLine(`${p}trainer ${m.engineVersion} (pid ${m.pid}) on ${m.backend.name}: ${m.backend.reason}`);
      break;
    case 'plan':
      s.output.appendLine(
        `${p}${m.mode} ${m.task}: ${m.trainExamples} training / ${plural(m.evalExamples, 'validation example')}, ${plural(m.totalSteps, 'step')}${m.resumedFromStep !== undefined ? `, resumed from step ${m.resumedFromStep}` : ''} → ${m.runDir}`,
      );
      break;
    case 'log':
      s.output.appendLine(`${p}${m.level}: ${m.message}`);
      break;
    case 'error':
      s.output.appendLine(
        `${p}${m.fatal ? 'fatal ' : ''}error: ${m.error.message}${m.error.file ? ` (${m.error.file}${m.error.line ? `:${m.error.line}` : ''})` : ''}${m.error.detail ? `\n  ${m.error.detail}` : ''}`,
      );
      break;
    case 'eval':
      s.output.appendLine(
        `${p}eval @ step ${m.step}: ${Object.entries(m.metrics)
          .map(([k, v]) => `${k} ${formatMetric(v)}`)
          .join(', ')}${m.isBest ? ' (best)' : ''}`,
      );
      break;
    case 'checkpoint':
      s.output.appendLine(`${p}checkpoint @ step ${m.step}: ${m.path}${m.isBest ? ' (best)' : ''}`);
      break;
    case 'done':
      s.output.appendLine(
        `${p}done: ${m.status} at step ${m.step}${m.bestMetric !== undefined ? `, best ${formatMetric(m.bestMetric)}` : ''}`,
      );
      break;
    default:
      break;
  }
}

async function announceEnd(s: Services, run: RunInfo): Promise<void> {
  if (run.status === 'failed') {
    const choice = await vscode.window.showErrorMessage(
      `Run "${run.name}" failed: ${(run.reason ?? 'unknown reason').split('\n')[0]}`,
      'Show trainer output',
      'Open config',
    );
    if (choice === 'Show trainer output') s.output.show(true);
    if (choice === 'Open config' && run.configPath)
      await vscode.window.showTextDocument(vscode.Uri.file(run.configPath));
  } else if (run.status === 'completed' || run.status === 'early-stopped') {
    const best = run.bestMetric ? ` Best ${run.bestMetric.name}: ${formatMetric(run.bestMetric.value)}.` : '';
    const choice = await vscode.window.showInformationMessage(
      `Run "${run.name}" ${run.status === 'completed' ? 'completed' : 'stopped early'}.${best}`,
      'Open metrics',
    );
    if (choice) await vscode.commands.executeCommand('finetune.openMetrics', run.id);
  }
}

/** `finetune.runsFolder` is a restricted setting: once trusted, the workspace's value applies, so look again. */
function onTrustGranted(s: Services): void {
  s.output.appendLine('The workspace is trusted now: runs can start.');
  void s.index.refresh();
}

let lastKeys = '';
function updateContextKeys(s: Services): void {
  const active = s.manager.activeRuns();
  const all = s.index.list();
  const keys = {
    'finetune.hasActiveRun': active.length > 0,
    'finetune.hasRunningRun': active.some((r) => r.status === 'running'),
    'finetune.runningConfigs': [...new Set(active.map((r) => r.configPath).filter((p): p is string => !!p))],
    'finetune.hasRuns': all.length > 0,
    'finetune.hasResumableRun': all.some(
      (r) => !isActive(r.status) && r.status !== 'completed' && r.checkpoints.length > 0,
    ),
  };
  const json = JSON.stringify(keys);
  if (json === lastKeys) return;
  lastKeys = json;
  for (const [k, v] of Object.entries(keys)) void vscode.commands.executeCommand('setContext', k, v);
}
