/**
 * The language service for `*.finetune.yaml`: pure functions of a `TextDocument` plus injected file access, so
 * that tests call it directly and server.ts only wires it to a connection.
 */
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import type { CodeAction, CompletionList, Diagnostic, Hover, Position, Range } from 'vscode-languageserver';
import { CodeActionKind, DiagnosticSeverity } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ConfigDiagnostic } from '../../common/config/diagnostic';
import type { ConfigFileHost } from '../../common/config/fileChecks';
import { checkConfigFiles } from '../../common/config/fileChecks';
import { CONFIG_LIMITS } from '../../common/config/boundedParse';
import { doComplete } from './completion';
import { doHover } from './hover';
import { memoryDiagnosticsFor } from './memoryFacts';
import { withTimeout } from './modelFacts';
import type { Parsed } from './parse';
import { MAX_TEXT_LENGTH, parseConfig } from './parse';
import type { ServiceContext, WorkspaceIndex } from './serviceContext';
import { toRange } from './serviceContext';

export const DIAGNOSTIC_SOURCE = 'finetune-studio';
/** More diagnostics than this help nobody and slow the client down; the parse stops computing them there too. */
export const MAX_DIAGNOSTICS = CONFIG_LIMITS.maxDiagnostics;

export interface LanguageServiceOptions {
  /** File access for a config document, paths resolved against its folder; undefined for documents not on disk. */
  hostFor(uri: string): ConfigFileHost | undefined;
  workspace?: WorkspaceIndex;
  /** Upper bound on file checks (data headers, safetensors headers) per request. Default 1500 ms. */
  fileTimeoutMs?: number;
  maxTextLength?: number;
}

export interface FineTuneLanguageService {
  doValidation(document: TextDocument): Promise<Diagnostic[]>;
  doComplete(document: TextDocument, position: Position): Promise<CompletionList>;
  doHover(document: TextDocument, position: Position): Promise<Hover | null>;
  doCodeActions(document: TextDocument, range: Range): Promise<CodeAction[]>;
}

export function documentFolder(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return path.dirname(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

const SEVERITY = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
} as const;

export function toLspDiagnostic(document: TextDocument, d: ConfigDiagnostic): Diagnostic {
  return {
    range: toRange(document, d.range),
    severity: SEVERITY[d.severity],
    code: d.code,
    source: DIAGNOSTIC_SOURCE,
    message: d.message,
  };
}

function overlaps(a: Range, b: Range): boolean {
  const before = (p: Position, q: Position) => p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

export function createLanguageService(options: LanguageServiceOptions): FineTuneLanguageService {
  const timeoutMs = options.fileTimeoutMs ?? 1500;
  // One parse per document version, shared by validation, completion, hover and code actions.
  const parses = new Map<string, { version: number; parsed: Parsed }>();
  const full = new Map<string, { version: number; diagnostics: ConfigDiagnostic[] }>();

  const context = (document: TextDocument): ServiceContext => {
    let entry = parses.get(document.uri);
    if (!entry || entry.version !== document.version) {
      entry = {
        version: document.version,
        parsed: parseConfig(document.getText(), options.maxTextLength ?? MAX_TEXT_LENGTH),
      };
      parses.set(document.uri, entry);
      if (parses.size > 50) parses.delete(parses.keys().next().value!);
    }
    return {
      document,
      parsed: entry.parsed,
      host: options.hostFor(document.uri),
      workspace: options.workspace,
      folder: documentFolder(document.uri),
      timeoutMs,
    };
  };

  const configDiagnostics = async (document: TextDocument): Promise<ConfigDiagnostic[]> => {
    const ctx = context(document);
    const { result } = ctx.parsed;
    let diagnostics = ctx.parsed.diagnostics;
    if (result) {
      // The same verdict as the trainer's check before the first step, when the model's shape is known.
      const memory = memoryDiagnosticsFor(result.config, result.document, ctx.host);
      diagnostics = [...diagnostics, ...(await withTimeout(memory, timeoutMs, []))];
    }
    if (result && ctx.host) {
      // The signal stops the data-file reads that the timeout gives up on.
      const signal = AbortSignal.timeout(timeoutMs);
      const checks = checkConfigFiles(result.config, result.document, ctx.host, signal);
      const files = await withTimeout(checks, timeoutMs, []);
      // A file diagnostic about a key that already has an error would say the same thing twice.
      const broken = new Set(diagnostics.filter((d) => d.severity === 'error').map((d) => d.path.join('.')));
      diagnostics = [...diagnostics, ...files.filter((d) => !broken.has(d.path.join('.')))];
    }
    full.set(document.uri, { version: document.version, diagnostics });
    if (full.size > 50) full.delete(full.keys().next().value!);
    return diagnostics;
  };

  return {
    async doValidation(document) {
      return (await configDiagnostics(document)).slice(0, MAX_DIAGNOSTICS).map((d) => toLspDiagnostic(document, d));
    },
    doComplete: (document, position) => doComplete(context(document), document.offsetAt(position)),
    doHover: (document, position) => doHover(context(document), document.offsetAt(position)),
    async doCodeActions(document, range) {
      const last = full.get(document.uri);
      const diagnostics =
        last && last.version === document.version ? last.diagnostics : await configDiagnostics(document);
      const actions: CodeAction[] = [];
      for (const d of diagnostics) {
        const lsp = toLspDiagnostic(document, d);
        if (!d.fixes || !overlaps(lsp.range, range)) continue;
        for (const fix of d.fixes) {
          actions.push({
            title: fix.title,
            kind: CodeActionKind.QuickFix,
            diagnostics: [lsp],
            isPreferred: fix.preferred ?? false,
            edit: {
              changes: {
                [document.uri]: fix.edits.map((e) => ({ range: toRange(document, e.range), newText: e.newText })),
              },
            },
          });
        }
      }
      return actions;
    },
  };
}
