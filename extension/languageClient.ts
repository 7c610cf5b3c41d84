/**
 * The language client for `*.finetune.yaml`, built as its own bundle (dist/languageClient.js) and loaded on the
 * first config the user opens, so that activation does not pay for vscode-languageclient.
 */
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { LanguageClient, TransportKind } from 'vscode-languageclient/node';
import type { LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';

export const LANGUAGE_ID = 'finetune-yaml';

export async function startLanguageClient(extensionPath: string, output: vscode.LogOutputChannel): Promise<{ dispose(): Promise<void> }> {
  const module = path.join(extensionPath, 'dist', 'server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc, options: { execArgv: [] } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: LANGUAGE_ID },
      { scheme: 'file', pattern: '**/*.finetune.yaml' },
      { scheme: 'file', pattern: '**/*.finetune.yml' },
    ],
    outputChannel: output,
  };
  const client = new LanguageClient('finetuneLanguageServer', 'Fine-Tune config language server', serverOptions, clientOptions);
  await client.start();
  return { dispose: () => client.stop() };
}
