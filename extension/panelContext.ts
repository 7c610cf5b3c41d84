/**
 * What the webview panels (extension/panels/, written separately) get from the extension:
 * `registerPanels(ctx: PanelContext)` exported by `extension/panels/registerPanels.ts` is called once at
 * activation when that file exists at build time. It registers `finetune.openMetrics` (argument: a run id,
 * optional) and `finetune.compareRuns` (arguments: run ids, optional); the extension registers fallbacks for
 * whichever is missing. The shape satisfies `PanelServices` of extension/panels/panelHost.ts.
 */
import type * as vscode from 'vscode';
import type { RunManager } from './runManager';
import type { RunsIndex } from './runsIndex';

export interface PanelContext {
  readonly extension: vscode.ExtensionContext;
  /** Keeps a disposable for the extension's life. */
  push<T extends { dispose(): unknown }>(d: T): T;
  /** Keeps a disposable until the run's scope ends (the run is deleted, or the extension deactivates). */
  pushForRun<T extends { dispose(): unknown }>(runId: string, d: T): T;
  /** Live runs of this window: onDidChangeRun, onDidEndRun, onDidReceiveMessage, onMessage(runId, l), getRun, listRuns, stop, saveCheckpointNow, start. */
  readonly manager: RunManager;
  /** Every run (live and on disk): get(id), list(), onDidChange. */
  readonly runs: RunsIndex;
  /** Absolute path of dist/cli.js, for evaluate / predict. */
  readonly cliPath: string;
  /** The shared "Fine-Tune Studio" output channel. */
  readonly output: vscode.OutputChannel;
}
