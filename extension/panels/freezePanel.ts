/** The freezing panel's host: renders the controller's state; checkboxes and shortcuts edit the config. */
import * as vscode from 'vscode';
import { freezeCommands } from '../../common/webviewProtocol';
import type { CommandHandlers, FreezeState } from '../../common/webviewProtocol';
import type { FreezeController } from './freezeController';
import { PanelHost } from './panelHost';

export class FreezePanel extends PanelHost<typeof freezeCommands> {
  constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly controller: FreezeController,
  ) {
    super(panel, extensionUri, 'freezePanel', freezeCommands, {
      kind: 'freeze',
      configUri: controller.uri?.toString(),
    });
    const sub = controller.onDidChange(() => void this.refresh());
    this.onDidDispose(() => sub.dispose());
  }

  protected async snapshot(): Promise<FreezeState> {
    if (!this.controller.model && this.controller.uri) await this.controller.refresh();
    return (
      this.controller.model?.state ?? {
        numLayers: 0,
        batchSize: 0,
        maxLength: 0,
        freeze: [],
        unfreeze: [],
        reason: 'Open a *.finetune.yaml to see its model and choose what to freeze.',
      }
    );
  }

  protected readonly handlers: CommandHandlers<typeof freezeCommands> = {
    setFrozen: async (a) => void (await this.controller.setFrozen(a.path, a.frozen)),
    shortcut: async (a) => void (await this.controller.shortcut(a.kind, a.n)),
    openConfig: async () => {
      if (this.controller.uri) await vscode.window.showTextDocument(this.controller.uri, { preview: false });
    },
  };
}
