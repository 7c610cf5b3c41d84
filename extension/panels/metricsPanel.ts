/**
 * The metrics panel's host: one or several runs (comparison). The snapshot is the runs' history read from disk;
 * live trainer messages for those runs follow as batched appends (every 50 ms at most), so a run that logs
 * hundreds of steps a second costs the page a few updates a frame.
 */
import * as vscode from 'vscode';
import { writeFileAtomic } from '../../common/atomicWrite';
import type { TrainerMessage, TrainerMessageOf } from '../../common/protocol';
import { emptyRunSeries } from '../../common/runSeries';
import { metricsCommands } from '../../common/webviewProtocol';
import type { CommandHandlers, MetricsAppend, MetricsRunInfo, MetricsState } from '../../common/webviewProtocol';
import type { RunInfo } from '../runModel';
import { PanelHost } from './panelHost';
import type { Services } from '../ctx';
import { readRunSeries } from './runHistory';
import { readRunConfig } from '../runConfig';
import { decidingMetric } from '../../common/metricNames';

const FLUSH_MS = 50;

export class MetricsPanel extends PanelHost<typeof metricsCommands> {
  private readonly queues = new Map<string, TrainerMessage[]>();
  private timer: NodeJS.Timeout | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly services: Services,
    /** Run ids or run folders, as the run explorer names them. */
    readonly runIds: string[],
  ) {
    super(panel, extensionUri, 'metricsPanel', metricsCommands, { kind: 'metrics', runIds });
    this.subs.push(
      services.manager.onDidReceiveMessage((e) => {
        const id = this.ownerOf(e.runId);
        if (!id) return;
        // Hidden: nothing is kept; the snapshot taken when it shows again reads the trainer's own record.
        if (!this.visible) return this.append(undefined);
        (this.queues.get(id) ?? this.queues.set(id, []).get(id)!).push(e.message);
        this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
      }),
      services.manager.onDidEndRun((r) => {
        const id = this.ownerOf(r.id);
        if (id) this.flush(id, r);
      }),
    );
    this.onDidDispose(() => {
      if (this.timer) clearTimeout(this.timer);
      for (const d of this.subs.splice(0)) d.dispose();
    });
  }

  /** Which of this panel's runs a live run id belongs to (the manager's id, or the run folder once known). */
  private ownerOf(liveId: string): string | undefined {
    const live = this.services.manager.getRun(liveId);
    return this.runIds.find((id) => {
      if (id === liveId) return true;
      const r = this.services.index.get(id);
      return !!r && (r.id === liveId || (!!live?.runDir && r.runDir === live.runDir));
    });
  }

  private flush(endedId?: string, ended?: RunInfo): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [runId, messages] of this.queues) {
      if (messages.length) this.append({ runId, messages } satisfies MetricsAppend);
    }
    this.queues.clear();
    if (endedId && ended)
      void this.info(endedId, ended).then((info) =>
        this.append({ runId: endedId, messages: [], info } satisfies MetricsAppend),
      );
  }

  private async info(id: string, run: RunInfo | undefined, plan?: TrainerMessageOf<'plan'>): Promise<MetricsRunInfo> {
    const view = await readRunConfig(run?.runDir, run?.configPath);
    const patience = view?.config.training.early_stopping_patience;
    const sources = { ...(plan ? { plan } : {}), ...(run ? { run } : {}), ...(view ? { config: view.best } : {}) };
    const metric = decidingMetric(sources).metric;
    return {
      runId: id,
      live:
        !!run?.live &&
        (run.status === 'running' || run.status === 'starting' || run.status === 'stopping' || run.status === 'queued'),
      ...(run?.startedAt !== undefined ? { startedAt: new Date(run.startedAt).toISOString() } : {}),
      ...(patience !== undefined ? { earlyStoppingPatience: patience } : {}),
      metricForBest: metric,
      config: view?.flat ?? {},
      ...(run?.download ? { download: run.download } : {}),
    };
  }

  protected async snapshot(): Promise<MetricsState> {
    const runs = await Promise.all(
      this.runIds.map(async (id) => {
        const run = this.services.index.get(id);
        const name = run?.name ?? id;
        const series = run?.runDir ? await readRunSeries(run.runDir, id, name) : emptyRunSeries(id, name);
        if (!series.hello && run?.backend) {
          // metrics.jsonl records steps, evals and checkpoints only; the backend comes from run.json.
          series.hello = {
            type: 'hello',
            protocolVersion: 1,
            engineVersion: '',
            pid: run.pid ?? 0,
            backend: { name: backendName(run.backend), reason: run.backend, tried: [] },
          };
        }
        if (!series.plan && run?.totalSteps)
          series.plan = {
            type: 'plan',
            runId: id,
            runDir: run.runDir ?? '',
            mode: run.mode ?? 'fine-tune',
            task: run.task ?? 'text-classification',
            totalSteps: run.totalSteps,
            stepsPerEpoch: 0,
            epochs: 0,
            trainExamples: 0,
            evalExamples: 0,
          };
        return { info: await this.info(id, run, series.plan), series };
      }),
    );
    return { runs };
  }

  protected readonly handlers: CommandHandlers<typeof metricsCommands> = {
    stop: async ({ runId }) => this.control(runId, 'stop'),
    saveNow: async ({ runId }) => this.control(runId, 'saveNow'),
    exportCsv: async ({ csv, suggestedName }) => void (await saveAs(suggestedName, { CSV: ['csv'] }, csv)),
    exportImage: async ({ format, data, suggestedName }) => {
      if (format === 'svg') return void (await saveAs(suggestedName, { SVG: ['svg'] }, data));
      const m = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(data);
      if (!m) throw new Error('the chart image is not a PNG data URL');
      await saveAs(suggestedName, { PNG: ['png'] }, Buffer.from(m[1]!, 'base64'));
    },
    openCheckpoints: async ({ runId }) => {
      await vscode.commands.executeCommand('finetune.openCheckpoints', runId);
    },
  };

  private control(runId: string, what: 'stop' | 'saveNow'): undefined {
    const run = this.services.index.get(runId);
    const { manager } = this.services;
    const ok = run && (what === 'stop' ? manager.stop(run.id) : manager.saveCheckpointNow(run.id));
    if (ok) return;
    const verb = what === 'stop' ? 'stopped' : 'asked to save';
    const name = run?.name ?? runId;
    void vscode.window.showWarningMessage(`Run ${name} is not running in this window, so it cannot be ${verb}.`);
  }
}

function backendName(s: string): 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu' {
  return s === 'tensorflow-gpu' || s === 'tensorflow' || s === 'wasm'
    ? s
    : s.includes('gpu')
      ? 'tensorflow-gpu'
      : s.includes('wasm')
        ? 'wasm'
        : 'cpu';
}

async function saveAs(
  suggestedName: string,
  filters: Record<string, string[]>,
  data: string | Uint8Array,
): Promise<boolean> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    filters,
    ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, suggestedName) } : {}),
  });
  if (!target) return false;
  // Temp + rename: a file the user chose to replace is swapped whole, never left half-written.
  await writeFileAtomic(target.fsPath, data);
  return true;
}
