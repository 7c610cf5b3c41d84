/**
 * The language server process for `*.finetune.yaml`. It only wires the connection: the work is done by the
 * pure language service (languageService/). The transport is whatever the client asks for on the command line
 * (`--stdio`, `--node-ipc`, `--socket=N`), so `node dist/server.js --stdio` serves Neovim, Helix and Emacs.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InitializeParams, InitializeResult } from 'vscode-languageserver/node';
import {
  CodeActionKind,
  createConnection,
  DidChangeWatchedFilesNotification,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { nodeConfigHost } from '../files/configHost';
import { cachingHost, HostCache } from './languageService/cachingHost';
import { createLanguageService, documentFolder } from './languageService/service';
import type { FineTuneLanguageService } from './languageService/service';
import { readServerInitializationOptions } from '../common/serverInitializationOptions';
import { nodeWorkspaceIndex } from './workspaceIndex';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
let service: FineTuneLanguageService | undefined;
let invalidateIndex = (): void => {};
let debounceMs = 75;
let canWatchFiles = false;

// A bug in a check must cost one answer, not the server: report it and keep serving (as vscode-eslint does).
process.on('uncaughtException', (e) =>
  connection.console.error(`finetune-studio server: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
);
process.on('unhandledRejection', (e) =>
  connection.console.error(`finetune-studio server: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
);

function fsPath(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

connection.onInitialize((params: InitializeParams): InitializeResult => {
  const opts = readServerInitializationOptions(params.initializationOptions);
  if (opts.debounceMs !== undefined) debounceMs = opts.debounceMs;
  canWatchFiles = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
  const roots = (
    params.workspaceFolders?.map((f) => fsPath(f.uri)) ?? [params.rootUri ? fsPath(params.rootUri) : undefined]
  ).filter((r): r is string => !!r);
  // The default runs folder is always looked in; `runsFolder` (the extension's setting) adds one.
  const runs = ['.finetune/runs', ...(opts.runsFolder ? [opts.runsFolder] : [])];
  const runsFolders = [...new Set(runs.flatMap((f) => (path.isAbsolute(f) ? [f] : roots.map((r) => path.join(r, f)))))];
  const index = nodeWorkspaceIndex({ roots, runsFolders });
  invalidateIndex = index.invalidate;
  const cache = new HostCache(async (p) => {
    try {
      const s = await fs.stat(p);
      return `${s.mtimeMs}:${s.size}`;
    } catch {
      return undefined;
    }
  });
  service = createLanguageService({
    hostFor: (uri) => {
      const folder = documentFolder(uri);
      return folder ? cachingHost(nodeConfigHost(folder), cache) : undefined;
    },
    workspace: index,
  });
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: [' ', ':', '-', '.', '/', '[', ','] },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    },
    serverInfo: { name: 'finetune-studio-config' },
  };
});

const pending = new Map<string, NodeJS.Timeout>();

async function validate(document: TextDocument): Promise<void> {
  if (!service) return;
  try {
    const diagnostics = await service.doValidation(document);
    // The user may have typed on while files were read: publish only for the version that was checked.
    const current = documents.get(document.uri);
    if (!current || current.version !== document.version) return;
    await connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics });
  } catch (e) {
    connection.console.error(
      `finetune-studio server: checking ${document.uri} failed: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

function schedule(document: TextDocument, delay: number): void {
  clearTimeout(pending.get(document.uri));
  pending.set(
    document.uri,
    setTimeout(() => {
      pending.delete(document.uri);
      void validate(document);
    }, delay),
  );
}

documents.onDidOpen((e) => schedule(e.document, 0));
documents.onDidChangeContent((e) => schedule(e.document, debounceMs));
documents.onDidClose((e) => {
  clearTimeout(pending.get(e.document.uri));
  pending.delete(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

connection.onInitialized(() => {
  // Clients that let us (VS Code, Neovim) tell us when data files or models change, so diagnostics follow the
  // files without a keystroke; other clients still get fresh answers, as the file cache checks mtimes.
  if (canWatchFiles) {
    void connection.client.register(DidChangeWatchedFilesNotification.type, {
      watchers: [{ globPattern: '**/*.{csv,tsv,jsonl,json,safetensors}' }, { globPattern: '**/vocab.txt' }],
    });
  }
});

connection.onDidChangeWatchedFiles(() => {
  // A data file or model folder changed: new files to offer, and checks to redo (answers are cached by mtime).
  invalidateIndex();
  for (const d of documents.all()) schedule(d, debounceMs);
});

connection.onCompletion(async (p) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc || !service) return null;
  try {
    return await service.doComplete(doc, p.position);
  } catch (e) {
    connection.console.error(
      `finetune-studio server: completion failed: ${e instanceof Error ? e.message : String(e)}`,
    );
    return null;
  }
});

connection.onHover(async (p) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc || !service) return null;
  try {
    return await service.doHover(doc, p.position);
  } catch (e) {
    connection.console.error(`finetune-studio server: hover failed: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
});

connection.onCodeAction(async (p) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc || !service) return null;
  try {
    return await service.doCodeActions(doc, p.range);
  } catch (e) {
    connection.console.error(
      `finetune-studio server: code actions failed: ${e instanceof Error ? e.message : String(e)}`,
    );
    return null;
  }
});

documents.listen(connection);
connection.listen();
