/**
 * All runs the window knows: those read from the runs folders of the workspace (the `output_dir` of each
 * `*.finetune.yaml`, `.finetune/runs` by default, and the `finetune.runsFolder` setting), merged with the runs
 * this window's run manager owns. File watchers keep it current; nothing polls.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Emitter } from './events';
import type { Event } from './events';
import type { RunManager } from './runManager';
import type { RunInfo } from './runModel';
import { outputDirOf, readRunFolder } from './runStore';
import { readSettings, SETTINGS_SECTION } from './settings';

export const CONFIG_GLOB = '**/*.finetune.{yaml,yml}';
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/.finetune/**}';

export class RunsIndex implements vscode.Disposable {
  private readonly disk = new Map<string, RunInfo>(); // by run folder
  private readonly folders = new Set<string>();
  private readonly changed = new Emitter<void>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly folderWatchers = new Map<string, vscode.Disposable>();
  readonly onDidChange: Event<void> = this.changed.event;

  constructor(
    private readonly manager: RunManager,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    // The run folder itself too: inotify can miss a file created right after its new folder, before the
    // recursive watcher has added a watch on it, so a new folder is read on its own as well.
    for (const glob of ['**/.finetune/runs/*', '**/.finetune/runs/*/run.json', '**/.finetune/runs/*/metrics.jsonl']) {
      const w = vscode.workspace.createFileSystemWatcher(glob);
      this.disposables.push(
        w,
        w.onDidCreate((u) => this.touch(u)),
        w.onDidChange((u) => this.touch(u)),
        w.onDidDelete((u) => this.touch(u)),
      );
    }
    const c = vscode.workspace.createFileSystemWatcher(CONFIG_GLOB);
    this.disposables.push(
      c,
      c.onDidCreate(() => void this.refresh()),
      c.onDidChange(() => void this.refresh()),
    );
    this.disposables.push(
      manager.onDidChangeRun(() => this.changed.fire()),
      manager.onDidEndRun((r) => {
        // The trainer wrote its final run.json; read it so the finished run shows what is on disk. Its runs
        // folder may be new (the first run of a config): then rescan, which also starts watching it.
        if (r.runDir && this.folders.has(path.dirname(r.runDir)) && this.folderWatchers.has(path.dirname(r.runDir)))
          this.schedule(r.runDir, 200);
        else void this.refresh();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(SETTINGS_SECTION) && void this.refresh()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.refresh()),
    );
  }

  /** Disk runs, with live runs of this window taking their place, newest first. */
  list(): RunInfo[] {
    const live = this.manager.listRuns();
    const liveDirs = new Set(live.map((r) => r.runDir).filter((d): d is string => !!d));
    const out: RunInfo[] = [...live.filter((r) => r.live || !r.runDir || !this.disk.has(r.runDir))];
    for (const [dir, r] of this.disk) {
      if (liveDirs.has(dir)) {
        const l = live.find((x) => x.runDir === dir);
        if (l && !l.live) {
          // Ended in this window: the folder is the record, but keep the host's failure reason.
          out.push(l.status === 'failed' && l.reason ? { ...r, status: 'failed', reason: l.reason } : r);
        }
        continue;
      }
      out.push(r);
    }
    return out.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
  }

  get(id: string): RunInfo | undefined {
    return this.manager.getRun(id) ?? this.list().find((r) => r.id === id || r.runDir === id);
  }

  runsFolders(): string[] {
    return [...this.folders];
  }

  async refresh(): Promise<void> {
    const folders = new Set<string>();
    const configs = await vscode.workspace.findFiles(CONFIG_GLOB, EXCLUDE, 500);
    for (const c of configs) {
      const text = await fs.readFile(c.fsPath, 'utf8').catch(() => '');
      const out = outputDirOf(text);
      folders.add(path.resolve(path.dirname(c.fsPath), out));
    }
    for (const wf of vscode.workspace.workspaceFolders ?? []) {
      const s = readSettings((k) => vscode.workspace.getConfiguration(SETTINGS_SECTION, wf.uri).get(k));
      if (s.runsFolder) folders.add(path.resolve(wf.uri.fsPath, s.runsFolder));
      folders.add(path.join(wf.uri.fsPath, '.finetune', 'runs'));
    }
    this.folders.clear();
    for (const f of folders) this.folders.add(f);
    const seen = new Set<string>();
    for (const f of folders) {
      const entries = await fs.readdir(f, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (!e.isDirectory() || e.name.startsWith('.')) continue;
        const dir = path.join(f, e.name);
        seen.add(dir);
        const run = await readRunFolder(dir);
        if (run) this.disk.set(dir, run);
      }
    }
    for (const dir of [...this.disk.keys()]) if (!seen.has(dir)) this.disk.delete(dir);
    this.watchFolders(this.foreignRunning());
    this.changed.fire();
  }

  /** Forgets a run folder that was deleted. */
  forget(dir: string): void {
    this.disk.delete(dir);
    this.changed.fire();
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    for (const d of [...this.disposables, ...this.folderWatchers.values()]) d.dispose();
    this.changed.dispose();
  }

  /**
   * A non-recursive watcher on every runs folder that exists (VS Code gives a RelativePattern without a slash its
   * own fs.watch), and on the folder of every run another process is training. The glob watchers above ride on the
   * workspace's recursive watcher, which can miss a folder created right inside a new one (the trainer creates
   * `.finetune/runs/<id>` in one go); these cannot.
   */
  private watchFolders(runningDirs: string[]): void {
    const wanted = new Set([...this.folders].filter((f) => existsSync(f)));
    for (const d of runningDirs) wanted.add(d);
    for (const [f, w] of this.folderWatchers) {
      if (!wanted.has(f)) {
        w.dispose();
        this.folderWatchers.delete(f);
      }
    }
    for (const f of wanted) {
      if (this.folderWatchers.has(f)) continue;
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(f), '*'));
      const parts = [
        w,
        w.onDidCreate((u) => this.touch(u)),
        w.onDidChange((u) => this.touch(u)),
        w.onDidDelete((u) => this.touch(u)),
      ];
      this.folderWatchers.set(f, { dispose: () => parts.forEach((d) => d.dispose()) });
    }
  }

  private isRunDirWatch(p: string): boolean {
    return this.folderWatchers.has(p) && !this.folders.has(p);
  }

  /** Run folders whose run.json says running, written by another window or the CLI. */
  private foreignRunning(): string[] {
    return [...this.disk.values()].filter((r) => r.status === 'running' && r.runDir).map((r) => r.runDir!);
  }

  private touch(uri: vscode.Uri): void {
    const base = path.basename(uri.fsPath);
    // An event inside a run folder (from its own watcher, or a file of it) means that run folder.
    const parent = path.dirname(uri.fsPath);
    const dir =
      base === 'run.json' || base === 'metrics.jsonl' || this.disk.has(parent) || this.isRunDirWatch(parent)
        ? parent
        : uri.fsPath;
    if (!this.folders.has(path.dirname(dir))) {
      // A runs folder we did not know (a new config's output_dir, or .finetune/runs just created): rescan.
      void this.refresh();
      return;
    }
    if (path.basename(dir).startsWith('.')) return; // a checkpoint being written, not a run
    // A live run's state comes from its protocol messages; re-reading metrics.jsonl at every step is waste.
    if (this.manager.listRuns().some((r) => r.live && r.runDir === dir)) return;
    this.log(`» runs: re-reading ${dir}`);
    this.schedule(dir, 300);
  }

  private schedule(dir: string, ms: number): void {
    clearTimeout(this.pending.get(dir));
    this.pending.set(
      dir,
      setTimeout(() => {
        this.pending.delete(dir);
        void readRunFolder(dir).then((run) => {
          if (run) this.disk.set(dir, run);
          else this.disk.delete(dir);
          this.watchFolders(this.foreignRunning());
          this.changed.fire();
        });
      }, ms),
    );
  }
}
