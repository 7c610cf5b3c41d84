/** The freezing panel's host: renders the controller's state; checkboxes and shortcuts edit the config. */
import * as vscode from 'vscode';
import { freezeCommands } from '../../common/webviewProtocol';
import type { FreezeShortcut, FreezeState } from '../../common/webviewProtocol';
import type { FreezeController } from './freezeController';
import { PanelHost } from './panelHost';

export class FreezePanel extends PanelHost {
  constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private readonly controller: FreezeController) {
    super(panel, extensionUri, 'freezePanel', freezeCommands, { kind: 'freeze', configUri: controller.uri?.toString() });
    const sub = controller.onDidChange(() => void this.refresh());
    this.onDidDispose(() => sub.dispose());
  }

  protected async snapshot(): Promise<FreezeState> {
    if (!this.controller.model && this.controller.uri) await this.controller.refresh();
    return this.controller.model?.state ?? { numLayers: 0, batchSize: 0, maxLength: 0, freeze: [], unfreeze: [], reason: 'Open a *.finetune.yaml to see its model and choose what to freeze.' };
  }

  protected async handle(name: string, args: unknown): Promise<unknown> {
    switch (name) {
      case 'setFrozen': {
        const a = args as { path: string; frozen: boolean };
        return this.controller.setFrozen(a.path, a.frozen);
      }
      case 'shortcut': {
        const a = args as { kind: FreezeShortcut; n?: number };
        return this.controller.shortcut(a.kind, a.n);
      }
      case 'openConfig':
        if (this.controller.uri) await vscode.window.showTextDocument(this.controller.uri, { preview: false });
        return true;
    }
    return undefined;
  }
}
