/**
 * The host half of a webview panel (common/webviewProtocol.ts): the HTML with a nonce-based CSP and resources
 * only from dist/webview and media, the ready → snapshot handshake, numbered appends, resync on request, command
 * validation with replies, and no work at all while the panel is hidden (appends are dropped and a fresh
 * snapshot goes out when it is shown again).
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { checkCommand, checkWebviewToHost, dispatchCommand, SequenceSender } from '../../common/webviewProtocol';
import type { CommandHandlers, CommandTable, PanelKind } from '../../common/webviewProtocol';
import { toUserError } from '../../common/errors';

export const VIEW_TYPES: Record<PanelKind, string> = {
  metrics: 'finetune.metrics',
  freeze: 'finetune.freezing',
  checkpoints: 'finetune.checkpoints',
};

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    localResourceRoots: [
      vscode.Uri.joinPath(extensionUri, 'dist', 'webview'),
      vscode.Uri.joinPath(extensionUri, 'media'),
    ],
  };
}

/** The page: one script (the panel's bundle), one stylesheet of ours and the codicons font, nothing inline. */
export function panelHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  script: string,
  title: string,
  ident: unknown,
): string {
  const nonce = randomBytes(16).toString('base64');
  const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...p)).toString();
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="finetune-ident" content="${esc(JSON.stringify(ident))}">
<link rel="stylesheet" href="${uri('dist', 'webview', 'codicons', 'codicon.css')}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${uri('media', 'panels.css')}">
<title>${esc(title)}</title>
</head>
<body>
<main id="root"></main>
<script nonce="${nonce}" src="${uri('dist', 'webview', `${script}.js`)}"></script>
</body>
</html>`;
}

export abstract class PanelHost<T extends CommandTable> implements vscode.Disposable {
  private readonly sender = new SequenceSender();
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private stale = false;
  private snapshotting: Promise<void> | undefined;
  /** Changes that arrive while a snapshot is being built: sent right after it (the page drops replays). */
  private queued: unknown[] = [];
  private disposed = false;
  readonly onDidDispose: vscode.Event<void>;

  constructor(
    readonly panel: vscode.WebviewPanel,
    protected readonly extensionUri: vscode.Uri,
    script: string,
    private readonly commands: T,
    ident: unknown,
  ) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon-panel.svg');
    panel.webview.html = panelHtml(panel.webview, extensionUri, script, panel.title, ident);
    this.onDidDispose = panel.onDidDispose;
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      panel.onDidChangeViewState(() => {
        if (panel.visible && this.stale) void this.sendSnapshot();
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** The complete state the page renders. */
  protected abstract snapshot(): Promise<unknown>;
  /** What each command of the table does; a request's value is the reply (the page checks it by its guard). */
  protected abstract readonly handlers: CommandHandlers<T>;

  protected get visible(): boolean {
    return this.panel.visible && this.ready && !this.disposed;
  }

  /** Sends one change; a hidden page gets nothing and is marked stale instead. */
  protected append(item: unknown): void {
    if (!this.visible) {
      this.stale = true;
      return;
    }
    if (this.snapshotting) {
      this.queued.push(item);
      return;
    }
    void this.panel.webview.postMessage(this.sender.append(item));
  }

  /** Re-renders from scratch (e.g. the panel's runs changed). */
  async refresh(): Promise<void> {
    if (this.visible) await this.sendSnapshot();
    else this.stale = true;
  }

  private async sendSnapshot(): Promise<void> {
    if (this.snapshotting) {
      // What we are building may already be out of date: build once more when it is done.
      this.stale = true;
      return this.snapshotting;
    }
    this.stale = false;
    this.queued = [];
    this.snapshotting = (async () => {
      try {
        const state = await this.snapshot();
        if (!this.disposed) {
          void this.panel.webview.postMessage(this.sender.snapshot(state));
          for (const item of this.queued.splice(0)) void this.panel.webview.postMessage(this.sender.append(item));
        }
      } catch (e) {
        void vscode.window.showErrorMessage(`Fine-Tune Studio: ${this.panel.title}: ${toUserError(e).message}`);
      } finally {
        this.snapshotting = undefined;
      }
    })();
    await this.snapshotting;
    if (this.stale && this.visible) await this.sendSnapshot();
  }

  private async receive(raw: unknown): Promise<void> {
    const m = checkWebviewToHost(raw);
    if (!m.ok) {
      console.error(`[finetune] ${this.panel.title}: ${m.error}`);
      return;
    }
    const msg = m.value;
    if (msg.type === 'ready' || msg.type === 'resync') {
      this.ready = true;
      if (this.panel.visible) await this.sendSnapshot();
      else this.stale = true;
      return;
    }
    const c = checkCommand(this.commands, msg);
    if (!c.ok) {
      console.error(`[finetune] ${this.panel.title}: ${c.error}`);
      if (msg.id !== undefined)
        void this.panel.webview.postMessage({ type: 'reply', id: msg.id, ok: false, error: c.error });
      return;
    }
    try {
      const value = await dispatchCommand(this.handlers, c.value);
      if (msg.id !== undefined) void this.panel.webview.postMessage({ type: 'reply', id: msg.id, ok: true, value });
    } catch (e) {
      const err = toUserError(e);
      if (msg.id !== undefined)
        void this.panel.webview.postMessage({ type: 'reply', id: msg.id, ok: false, error: err.message });
      else void vscode.window.showErrorMessage(`Fine-Tune Studio: ${err.message}`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
