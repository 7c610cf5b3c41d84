/**
 * The Hugging Face token in VS Code: "Set Hugging Face token" stores it in the secret storage (the OS keychain),
 * "Clear Hugging Face token" removes it. The value is kept in memory for the trainer's environment (hubTokenEnv.ts
 * says how it reaches the trainer and what wins over it); it is never written to settings, logs or files.
 */
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { envTokenVariable, hubTokenEnv, tokenProblem } from './hubTokenEnv';

export const HUB_TOKEN_SECRET = 'finetune.huggingFaceToken';

export class HubToken implements vscode.Disposable {
  private value: string | undefined;
  private readonly sub: vscode.Disposable;
  /** Resolves once the stored token has been read (runs started earlier go without it). */
  readonly ready: Promise<void>;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.ready = this.reload();
    this.sub = secrets.onDidChange((e) => {
      if (e.key === HUB_TOKEN_SECRET) void this.reload();
    });
  }

  /** What the trainer's environment gains: `HF_TOKEN`, unless VS Code's own environment has a token. */
  env(): Record<string, string> {
    return hubTokenEnv(this.value, process.env);
  }

  async set(token: string): Promise<void> {
    await this.secrets.store(HUB_TOKEN_SECRET, token);
    this.value = token;
  }

  async clear(): Promise<void> {
    await this.secrets.delete(HUB_TOKEN_SECRET);
    this.value = undefined;
  }

  get isSet(): boolean {
    return this.value !== undefined;
  }

  private async reload(): Promise<void> {
    this.value = (await this.secrets.get(HUB_TOKEN_SECRET)) || undefined;
  }

  dispose(): void {
    this.sub.dispose();
  }
}

export function registerHubTokenCommands(ctx: Ctx, token: HubToken): void {
  ctx.push(vscode.commands.registerCommand('finetune.setHubToken', () => setToken(token)));
  ctx.push(vscode.commands.registerCommand('finetune.clearHubToken', () => clearToken(token)));
}

async function setToken(token: HubToken): Promise<void> {
  const value = await vscode.window.showInputBox({
    title: 'Hugging Face token',
    prompt: 'An access token for gated or private models (https://huggingface.co/settings/tokens, "Read" is enough).',
    placeHolder: 'hf_…',
    password: true,
    ignoreFocusOut: true,
    validateInput: tokenProblem,
  });
  if (value === undefined) return;
  await token.set(value.trim());
  const shadow = envTokenVariable(process.env);
  if (shadow !== undefined) {
    void vscode.window.showWarningMessage(
      `The token is stored, but ${shadow} is set in VS Code's environment and wins over it, as in huggingface_hub. ` +
        `Unset ${shadow} where VS Code is started to use the stored token.`,
    );
    return;
  }
  void vscode.window.showInformationMessage(
    'The Hugging Face token is stored in VS Code’s secret storage. Runs started from now on use it.',
  );
}

async function clearToken(token: HubToken): Promise<void> {
  if (!token.isSet) {
    void vscode.window.showInformationMessage('No Hugging Face token is stored in VS Code.');
    return;
  }
  await token.clear();
  void vscode.window.showInformationMessage(
    'The Hugging Face token is removed from VS Code. Runs use HF_TOKEN or the `hf auth login` token file, if any.',
  );
}
