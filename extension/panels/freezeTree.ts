/**
 * The sidebar tree of the active config's model: each module with trainable / total parameters and a checkbox
 * ("trains"); ticking or unticking writes the config's freeze lists through the controller.
 */
import * as vscode from 'vscode';
import { formatCount } from '../../common/moduleTree';
import { formatBytes } from '../../common/memoryEstimate';
import type { ModuleNode } from '../../common/protocol';
import type { FreezeController } from './freezeController';

/** Tree levels worth a row: modules, not the weight/bias tensors (those show as a module's description). */
const visibleChildren = (n: ModuleNode) => n.children.filter((c) => c.children.length > 0);

export class FreezeTreeProvider implements vscode.TreeDataProvider<ModuleNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ModuleNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<ModuleNode>;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly controller: FreezeController) {
    this.view = vscode.window.createTreeView('finetune.freezing', {
      treeDataProvider: this,
      manageCheckboxStateManually: true,
      showCollapseAll: true,
    });
    this.disposables.push(
      this.view,
      this.changed,
      controller.onDidChange(() => this.update()),
      this.view.onDidChangeCheckboxState((e) => {
        for (const [node, state] of e.items)
          void controller.setFrozen(node.path, state !== vscode.TreeItemCheckboxState.Checked);
      }),
    );
    this.update();
  }

  private update(): void {
    const s = this.controller.model?.state;
    this.view.description = s?.configName;
    this.view.message = !s
      ? 'Open a *.finetune.yaml to see its model.'
      : s.tree && s.memory
        ? `${formatCount(s.tree.trainable)} of ${formatCount(s.tree.total)} parameters train · about ${formatBytes(s.memory.total)} to train at batch ${s.batchSize} × ${s.maxLength} tokens`
        : s.reason;
    this.changed.fire(undefined);
  }

  getChildren(node?: ModuleNode): ModuleNode[] {
    const tree = this.controller.model?.state.tree;
    if (!tree) return [];
    if (!node) return visibleChildren(tree).flatMap((c) => (c.name === 'bert' ? visibleChildren(c) : [c]));
    // `encoder` holds only `layer`, which holds the numbered layers: show the layers directly.
    if (node.name === 'encoder')
      return visibleChildren(node).flatMap((c) => (c.name === 'layer' ? visibleChildren(c) : [c]));
    return visibleChildren(node);
  }

  getTreeItem(n: ModuleNode): vscode.TreeItem {
    const label = /^\d+$/.test(n.name)
      ? `layer ${n.name}`
      : /\.layer\.\d+\.intermediate$/.test(n.path)
        ? 'feed-forward in (intermediate)'
        : /\.layer\.\d+\.output$/.test(n.path)
          ? 'feed-forward out (output)'
          : n.name;
    const item = new vscode.TreeItem(
      label,
      visibleChildren(n).length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    const frozen = n.total - n.trainable;
    item.id = n.path;
    item.description =
      n.trainable === n.total
        ? `${formatCount(n.total)} trainable`
        : n.trainable === 0
          ? `${formatCount(n.total)} frozen`
          : `${formatCount(n.trainable)} trainable · ${formatCount(frozen)} frozen`;
    item.tooltip = `${n.path}\ntotal ${n.total.toLocaleString()}\ntrainable ${n.trainable.toLocaleString()}\nfrozen ${frozen.toLocaleString()}`;
    item.checkboxState =
      n.trainable > 0 ? vscode.TreeItemCheckboxState.Checked : vscode.TreeItemCheckboxState.Unchecked;
    item.iconPath = new vscode.ThemeIcon(
      n.trainable === 0 ? 'lock' : n.trainable < n.total ? 'circle-large-outline' : 'pass',
    );
    item.contextValue = 'finetune.module';
    return item;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
