/**
 * The extension's context: owns every disposable, in two scopes as rust-analyzer's `ctx.ts` does — one for the
 * extension's life, and one per run (the run's metrics and checkpoint panels, with their subscriptions) that is
 * disposed when the run is deleted. Everything heavy (the language client, the run manager's trainer processes)
 * is created on first use through it.
 */
import type * as vscode from 'vscode';
import type { RunManager } from './runManager';
import type { RunsIndex } from './runsIndex';

type DisposableLike = { dispose(): unknown };

export class Ctx implements vscode.Disposable {
  private readonly life: DisposableLike[] = [];
  private readonly runScopes = new Map<string, Set<DisposableLike>>();
  private disposed = false;

  constructor(readonly extension: vscode.ExtensionContext) {}

  get extensionPath(): string {
    return this.extension.extensionPath;
  }

  /** Keeps `d` until the extension is deactivated. */
  push<T extends DisposableLike>(d: T): T {
    if (this.disposed) d.dispose();
    else this.life.push(d);
    return d;
  }

  /** Keeps `d` until `disposeRunScope(runId)` (or deactivation). */
  pushForRun<T extends DisposableLike>(runId: string, d: T): T {
    if (this.disposed) {
      d.dispose();
      return d;
    }
    let scope = this.runScopes.get(runId);
    if (!scope) this.runScopes.set(runId, (scope = new Set()));
    scope.add(d);
    return d;
  }

  /** Lets go of `d` without disposing it (it was disposed on its own, e.g. a panel the user closed). */
  forgetForRun(runId: string, d: DisposableLike): void {
    const scope = this.runScopes.get(runId);
    scope?.delete(d);
    if (scope?.size === 0) this.runScopes.delete(runId);
  }

  /** How many disposables the run's scope holds (for tests and diagnostics). */
  runScopeSize(runId: string): number {
    return this.runScopes.get(runId)?.size ?? 0;
  }

  disposeRunScope(runId: string): void {
    const scope = this.runScopes.get(runId);
    this.runScopes.delete(runId);
    disposeAll([...(scope ?? [])]);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const id of [...this.runScopes.keys()]) this.disposeRunScope(id);
    disposeAll(this.life.splice(0).reverse());
  }
}

function disposeAll(list: DisposableLike[]): void {
  for (const d of list) {
    try {
      d.dispose();
    } catch (e) {
      console.error('[finetune] dispose failed:', e);
    }
  }
}

/** The extension's services: one bag, handed to the commands, the views and the panels. */
export interface Services {
  readonly ctx: Ctx;
  readonly manager: RunManager;
  /** Every run the extension knows: live ones and those found in runs folders. */
  readonly index: RunsIndex;
  /** The shared "Fine-Tune Studio" channel: trainer stderr, log messages and run summaries. */
  readonly output: vscode.OutputChannel;
  /** The trainer bundle and the environment it runs with, for one-shot commands (evaluate, predict). */
  readonly trainer: { readonly path: string; env(): Record<string, string> };
}
