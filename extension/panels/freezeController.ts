/**
 * The freezing state of the config in the active editor, shared by the sidebar tree and the freezing panel:
 * recomputed when the user edits the file by hand (debounced), and changed through minimal WorkspaceEdits of
 * its `freeze` / `unfreeze` lists (one undo step each, comments kept; common/freezeEdit.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { setFrozenEdit, shortcutEdit } from '../../common/freezeEdit';
import type { FreezeEditResult, Shortcut } from '../../common/freezeEdit';
import type { ModuleNode } from '../../common/protocol';
import { nodeConfigHost } from '../../files/configHost';
import type { Services } from '../ctx';
import { freezeModelFor } from './freezeModel';
import type { FreezeModel } from './freezeModel';
import { isConfigFile } from '../../common/config/configFile';

export class FreezeController implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private readonly liveTrees = new Map<string, { tree: ModuleNode; runName: string }>();
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  uri: vscode.Uri | undefined;
  model: FreezeModel | undefined;

  constructor(services: Services) {
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e && isConfigFile(e.document.fileName)) this.setUri(e.document.uri);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.uri && e.document.uri.toString() === this.uri.toString()) this.schedule();
      }),
      services.manager.onDidReceiveMessage((e) => {
        if (e.message.type !== 'model') return;
        const run = services.manager.getRun(e.runId);
        if (!run?.configPath) return;
        this.liveTrees.set(path.resolve(run.configPath), { tree: e.message.tree, runName: run.name });
        if (this.uri && path.resolve(this.uri.fsPath) === path.resolve(run.configPath)) this.schedule();
      }),
      services.manager.onDidEndRun((r) => {
        if (r.configPath && this.liveTrees.delete(path.resolve(r.configPath))) this.schedule();
      }),
    );
    const active = vscode.window.activeTextEditor?.document;
    if (active && isConfigFile(active.fileName)) this.setUri(active.uri);
  }

  setUri(uri: vscode.Uri): void {
    if (this.uri?.toString() === uri.toString()) return;
    this.uri = uri;
    this.schedule(0);
  }

  private schedule(ms = 200): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), ms);
  }

  async refresh(): Promise<void> {
    const uri = this.uri;
    if (!uri) return;
    const gen = ++this.generation;
    const doc = await vscode.workspace.openTextDocument(uri);
    const model = await freezeModelFor(
      uri.fsPath,
      doc.getText(),
      nodeConfigHost(path.dirname(uri.fsPath)),
      this.liveTrees.get(path.resolve(uri.fsPath)),
    );
    if (gen !== this.generation) return; // a newer edit is being computed
    this.model = model;
    this.changed.fire();
  }

  async setFrozen(modulePath: string, frozen: boolean): Promise<boolean> {
    return this.edit((text, names) => setFrozenEdit(text, names, modulePath, frozen));
  }

  async shortcut(kind: Shortcut['kind'], n?: number): Promise<boolean> {
    const numLayers = this.model?.state.numLayers ?? 0;
    const s: Shortcut = kind === 'top-n' ? { kind, n: n ?? 2, numLayers } : ({ kind } as Shortcut);
    return this.edit((text, names) => shortcutEdit(text, names, s));
  }

  private async edit(compute: (text: string, names: string[]) => FreezeEditResult): Promise<boolean> {
    if (!this.uri || !this.model?.names.length) {
      void vscode.window.showWarningMessage('Open a *.finetune.yaml whose model is known to freeze modules.');
      return false;
    }
    const doc = await vscode.workspace.openTextDocument(this.uri);
    const r = compute(doc.getText(), this.model.names);
    if (!r.edit) return true;
    const we = new vscode.WorkspaceEdit();
    we.replace(
      this.uri,
      new vscode.Range(doc.positionAt(r.edit.range.start), doc.positionAt(r.edit.range.end)),
      r.edit.newText,
    );
    return vscode.workspace.applyEdit(we);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
