/**
 * The language client for `*.finetune.yaml`, built as its own bundle (dist/languageClient.js) and loaded on the
 * first config the user opens, so that activation does not pay for vscode-languageclient.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CloseAction, ErrorAction, LanguageClient, TransportKind } from 'vscode-languageclient/node';
import type { ErrorHandler, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import type { ServerInitializationOptions } from '../common/serverInitializationOptions';
import { RestartPolicy } from './restartPolicy';
import { CONFIG_FILE_GLOB } from '../common/config/configFile';

export const LANGUAGE_ID = 'finetune-yaml';

/** Restart a crashed server, say so once, and stop restarting after repeated crashes (see restartPolicy.ts). */
function errorHandler(output: vscode.LogOutputChannel): ErrorHandler {
  const policy = new RestartPolicy();
  const show = (message: string) =>
    void vscode.window.showWarningMessage(message, 'Show server log').then((choice) => {
      if (choice) output.show(true);
    });
  return {
    // A failed read or write is not a crash; `closed` follows if the server really went away.
    error: () => ({ action: ErrorAction.Continue, handled: true }),
    closed: () => {
      const d = policy.onCrash();
      if (d.action === 'give-up') {
        output.error(`The language server stopped ${d.crashes} times in 3 minutes; it is not restarted again.`);
        show(
          `The Fine-Tune config language server keeps stopping (${d.crashes} times in 3 minutes), so it was not restarted: completion and diagnostics for *.finetune.yaml are off until the window is reloaded.`,
        );
        return { action: CloseAction.DoNotRestart, handled: true };
      }
      output.warn('The language server stopped unexpectedly; restarting it.');
      if (d.notify) show('The Fine-Tune config language server stopped unexpectedly and was restarted.');
      return { action: CloseAction.Restart, handled: true };
    },
  };
}

export async function startLanguageClient(
  extensionPath: string,
  output: vscode.LogOutputChannel,
  initializationOptions: ServerInitializationOptions = {},
  /** What the settings add to a trainer's environment (threads, ...): the server's checks judge the same run. */
  settingsEnv: Record<string, string> = {},
): Promise<{ dispose(): Promise<void> }> {
  const module = path.join(extensionPath, 'dist', 'server.js');
  // The extension host's own environment (HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE: where the Hub cache is) first.
  const env = { ...process.env, ...settingsEnv };
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc, options: { execArgv: [], env } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'], env } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: LANGUAGE_ID },
      { scheme: 'untitled', language: LANGUAGE_ID },
      { scheme: 'file', pattern: CONFIG_FILE_GLOB },
    ],
    outputChannel: output,
    initializationOptions,
    errorHandler: errorHandler(output),
  };
  const client = new LanguageClient(
    'finetuneLanguageServer',
    'Fine-Tune config language server',
    serverOptions,
    clientOptions,
  );
  await client.start();
  return { dispose: () => client.stop() };
}
