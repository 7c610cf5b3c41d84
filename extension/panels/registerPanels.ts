/**
 * Registers the panels: the commands that open them, the freezing tree in the sidebar, and a
 * WebviewPanelSerializer per panel so that they come back after a window reload (each page keeps its identity —
 * run ids or config — in its webview state, which VS Code hands back here).
 */
import * as vscode from 'vscode';
import type { Services } from '../ctx';
import { CheckpointsPanel } from './checkpointsPanel';
import { FreezeController } from './freezeController';
import { FreezePanel } from './freezePanel';
import { FreezeTreeProvider } from './freezeTree';
import { MetricsPanel } from './metricsPanel';
import { VIEW_TYPES, webviewOptions } from './panelHost';

type Ident = { kind?: string; runIds?: unknown; runId?: unknown; configUri?: unknown };

/** A run id from a command argument: a string, a RunInfo-like object from the run explorer, or a tree item. */
function runIdsOf(arg: unknown, more?: unknown): string[] {
  const one = (a: unknown): string | undefined => {
    if (typeof a === 'string') return a;
    if (a && typeof a === 'object') {
      const o = a as { id?: unknown; runDir?: unknown; run?: unknown };
      if (o.run) return one(o.run);
      if (typeof o.runDir === 'string') return o.runDir;
      if (typeof o.id === 'string') return o.id;
    }
    return undefined;
  };
  // VS Code passes (clicked, selected[]) for multi-selection in a tree.
  const list = Array.isArray(more) && more.length > 1 ? more : Array.isArray(arg) ? arg : [arg];
  return [...new Set(list.map(one).filter((x): x is string => !!x))];
}

export function registerPanels(services: Services): void {
  const ctx = services.ctx;
  const extensionUri = ctx.extension.extensionUri;
  const controller = ctx.push(new FreezeController(services));
  ctx.push(new FreezeTreeProvider(controller));
  const metrics = new Map<string, MetricsPanel>();
  const checkpoints = new Map<string, CheckpointsPanel>();
  let freeze: FreezePanel | undefined;

  // A run's panels close with the run's scope (when the run is deleted), and leave it when the user closes them.
  const inRunScopes = (ids: string[], p: { dispose(): void; onDidDispose: vscode.Event<void> }) => {
    const runs = [...new Set(ids.map((id) => services.index.get(id)?.id ?? id))];
    for (const run of runs) ctx.pushForRun(run, p);
    p.onDidDispose(() => runs.forEach((run) => ctx.forgetForRun(run, p)));
  };
  const newPanel = (kind: keyof typeof VIEW_TYPES, title: string) =>
    vscode.window.createWebviewPanel(
      VIEW_TYPES[kind],
      title,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { ...webviewOptions(extensionUri), retainContextWhenHidden: false },
    );

  const openMetrics = (ids: string[], panel?: vscode.WebviewPanel): MetricsPanel | undefined => {
    if (!ids.length) return undefined;
    const key = [...ids].sort().join('\n');
    const existing = metrics.get(key);
    if (existing && !panel) {
      existing.panel.reveal();
      return existing;
    }
    const names = ids.map((id) => services.index.get(id)?.name ?? id);
    const title = ids.length > 1 ? `Compare: ${names.join(' vs ')}` : `Metrics: ${names[0]}`;
    const p = new MetricsPanel(panel ?? newPanel('metrics', title), extensionUri, services, ids);
    metrics.set(key, p);
    p.onDidDispose(() => metrics.delete(key));
    inRunScopes(ids, p);
    return p;
  };
  const openCheckpoints = (id: string, panel?: vscode.WebviewPanel) => {
    const existing = checkpoints.get(id);
    if (existing && !panel) return existing.panel.reveal();
    const title = `Checkpoints: ${services.index.get(id)?.name ?? id}`;
    const p = new CheckpointsPanel(panel ?? newPanel('checkpoints', title), extensionUri, services, id);
    checkpoints.set(id, p);
    p.onDidDispose(() => checkpoints.delete(id));
    inRunScopes([id], p);
  };
  const openFreezing = (panel?: vscode.WebviewPanel) => {
    if (freeze && !panel) return freeze.panel.reveal();
    freeze = new FreezePanel(panel ?? newPanel('freeze', 'Layer freezing'), extensionUri, controller);
    freeze.onDidDispose(() => (freeze = undefined));
  };

  const pickRuns = async (many: boolean): Promise<string[]> => {
    const items = services.index
      .list()
      .map((r) => ({ label: r.name, description: `${r.status} · step ${r.step}`, id: r.runDir ?? r.id }));
    if (!items.length) {
      void vscode.window.showInformationMessage('No runs yet: start one from a *.finetune.yaml.');
      return [];
    }
    const picked = many
      ? await vscode.window.showQuickPick(items, { canPickMany: true, title: 'Runs to compare' })
      : await vscode.window.showQuickPick(items, { title: 'Run' });
    return (Array.isArray(picked) ? picked : picked ? [picked] : []).map((p) => p.id);
  };

  const disposables: vscode.Disposable[] = [
    vscode.commands.registerCommand('finetune.openMetrics', async (arg?: unknown, more?: unknown) => {
      const ids = runIdsOf(arg, more);
      openMetrics(ids.length ? ids : await pickRuns(false));
    }),
    vscode.commands.registerCommand('finetune.compareRuns', async (arg?: unknown, more?: unknown) => {
      let ids = runIdsOf(arg, more);
      // "Compare with…" on one run: that run plus the ones picked.
      if (ids.length < 2) ids = [...new Set([...ids, ...(await pickRuns(true))])];
      if (ids.length) openMetrics(ids);
    }),
    vscode.commands.registerCommand('finetune.openCheckpoints', async (arg?: unknown) => {
      const id = runIdsOf(arg)[0] ?? (await pickRuns(false))[0];
      if (id) openCheckpoints(id);
    }),
    vscode.commands.registerCommand('finetune.openFreezing', (arg?: unknown) => {
      if (arg instanceof vscode.Uri) controller.setUri(arg);
      openFreezing();
    }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.metrics, {
      async deserializeWebviewPanel(panel, state: { ident?: Ident } | undefined) {
        const ids = Array.isArray(state?.ident?.runIds)
          ? state.ident.runIds.filter((x): x is string => typeof x === 'string')
          : [];
        if (!ids.length) return panel.dispose();
        openMetrics(ids, panel);
      },
    }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.checkpoints, {
      async deserializeWebviewPanel(panel, state: { ident?: Ident } | undefined) {
        const id = state?.ident?.runId;
        if (typeof id !== 'string') return panel.dispose();
        openCheckpoints(id, panel);
      },
    }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.freeze, {
      async deserializeWebviewPanel(panel, state: { ident?: Ident } | undefined) {
        const uri = state?.ident?.configUri;
        if (typeof uri === 'string') controller.setUri(vscode.Uri.parse(uri));
        openFreezing(panel);
      },
    }),
  ];
  for (const d of disposables) ctx.push(d);
}
