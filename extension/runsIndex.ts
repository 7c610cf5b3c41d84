/**
 * All runs the window knows: those read from the runs folders of the workspace (the `output_dir` of each
 * `*.finetune.yaml`, `.finetune/runs` by default, and the `finetune.runsFolder` setting), merged with the runs
 * this window's run manager owns. File watchers keep it current; nothing polls.
 */
import { promises as fs } from 'node:fs';
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

  constructor(private readonly manager: RunManager) {
    const w = vscode.workspace.createFileSystemWatcher('**/.finetune/runs/*/{run.json,metrics.jsonl}');
    this.disposables.push(w, w.onDidCreate((u) => this.touch(u)), w.onDidChange((u) => this.touch(u)), w.onDidDelete((u) => this.touch(u)));
    const c = vscode.workspace.createFileSystemWatcher(CONFIG_GLOB);
    this.disposables.push(c, c.onDidCreate(() => void this.refresh()), c.onDidChange(() => void this.refresh()));
    this.disposables.push(
      manager.onDidChangeRun(() => this.changed.fire()),
      manager.onDidEndRun((r) => {
        // The trainer wrote its final run.json; read it so the finished run shows what is on disk.
        if (r.runDir) this.schedule(r.runDir, 200);
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
    this.watchCustomFolders();
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

  private watchCustomFolders(): void {
    // `.finetune/runs` anywhere is covered by the glob watcher; other folders get their own.
    for (const f of this.folders) {
      if (this.folderWatchers.has(f) || f.split(path.sep).slice(-2).join('/') === '.finetune/runs') continue;
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(f), '*/{run.json,metrics.jsonl}'));
      const sub = [w.onDidCreate((u) => this.touch(u)), w.onDidChange((u) => this.touch(u)), w.onDidDelete((u) => this.touch(u))];
      this.folderWatchers.set(f, { dispose: () => [w, ...sub].forEach((d) => d.dispose()) });
    }
  }

  private touch(uri: vscode.Uri): void {
    const dir = path.dirname(uri.fsPath);
    // A live run's state comes from its protocol messages; re-reading metrics.jsonl at every step is waste.
    if (this.manager.listRuns().some((r) => r.live && r.runDir === dir)) return;
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
          this.changed.fire();
        });
      }, ms),
    );
  }
}
