/**
 * Starts the real server process over stdio, as Neovim or Helix would, and talks JSON-RPC to it: diagnostics
 * for a broken file (schema and real file checks), a fix that clears them, completion, hover and a quick fix.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type {
  CodeAction,
  CompletionList,
  Hover,
  MessageConnection,
  PublishDiagnosticsParams,
} from 'vscode-languageserver/node';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';

const root = path.resolve(import.meta.dirname, '../..');

describe('the server process over stdio', { timeout: 60000 }, () => {
  let dir: string;
  let child: ReturnType<typeof spawn>;
  let conn: MessageConnection;
  let stderr = '';
  const published: PublishDiagnosticsParams[] = [];
  let onPublish: (() => void) | undefined;

  /** The next publishDiagnostics for `uri` that satisfies `accept`. */
  const diagnosticsFor = (uri: string, accept: (p: PublishDiagnosticsParams) => boolean) =>
    new Promise<PublishDiagnosticsParams>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no matching diagnostics for ${uri}; got ${JSON.stringify(published)}; stderr: ${stderr}`)),
        20000,
      );
      const check = () => {
        const p = published.find((x) => x.uri === uri && accept(x));
        if (p) {
          clearTimeout(timer);
          onPublish = undefined;
          resolve(p);
        }
      };
      onPublish = check;
      check();
    });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ftls-'));
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'data', 'train.csv'), 'sentence,label\nhello,pos\nbad,neg\n');
    // FTLS_SERVER=dist/server.js runs the same test against a bundle; by default the source runs, so that the
    // test never checks a stale build.
    const bundle = process.env['FTLS_SERVER'];
    const args = bundle
      ? [path.resolve(root, bundle), '--stdio']
      : ['--import', 'tsx', path.join(root, 'server/server.ts'), '--stdio'];
    child = spawn(process.execPath, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    conn = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      published.push(p);
      onPublish?.();
    });
    conn.listen();
    const folder = pathToFileURL(dir).href;
    const init = await conn.sendRequest<{ capabilities: Record<string, unknown> }>('initialize', {
      processId: process.pid,
      rootUri: folder,
      workspaceFolders: [{ uri: folder, name: 'ws' }],
      capabilities: {},
      initializationOptions: { debounceMs: 20 },
    });
    assert.ok(init.capabilities['completionProvider']);
    assert.ok(init.capabilities['hoverProvider']);
    assert.ok(init.capabilities['codeActionProvider']);
    await conn.sendNotification('initialized', {});
  });

  after(async () => {
    try {
      await conn.sendRequest('shutdown');
      await conn.sendNotification('exit');
    } catch {
      // The process may already be gone; it is killed below either way.
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        child.kill();
        resolve();
      }, 3000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    conn.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes diagnostics for a broken file, then clears them when it is fixed', async () => {
    const uri = pathToFileURL(path.join(dir, 'exp.finetune.yaml')).href;
    const broken =
      'mode: fine-tune\nmodel:\n  name_or_path: prajjwal1/bert-tiny\ndata:\n  train_file: data/train.csv\ntraining:\n  learning_rat: 3e-5\n';
    await conn.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'finetune-yaml', version: 1, text: broken },
    });
    const first = await diagnosticsFor(uri, (p) => p.diagnostics.length > 0);
    const unknown = first.diagnostics.find((d) => d.code === 'unknown-key');
    assert.ok(unknown, JSON.stringify(first));
    assert.deepEqual(unknown.range, { start: { line: 6, character: 2 }, end: { line: 6, character: 14 } });
    assert.equal(unknown.source, 'finetune-studio');
    // The real file host read the CSV header: `text` is not a column of it.
    const column = first.diagnostics.find((d) => d.code === 'missing-column');
    assert.ok(column, JSON.stringify(first));
    assert.match(String(column.message), /`sentence`, `label`/);

    const actions = await conn.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: unknown.range,
      context: { diagnostics: [unknown] },
    });
    assert.ok(actions.some((a) => a.title === 'Rename to `learning_rate`'));

    const fixed = broken
      .replace('learning_rat', 'learning_rate')
      .replace('  train_file', '  text_column: sentence\n  train_file');
    await conn.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: fixed }],
    });
    const second = await diagnosticsFor(uri, (p) => p.version === 2);
    assert.deepEqual(second.diagnostics, []);
  });

  it('answers completion and hover', async () => {
    const uri = pathToFileURL(path.join(dir, 'other.finetune.yaml')).href;
    await conn.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'finetune-yaml', version: 1, text: 'mode: fine-tune\ndata:\n  train_file: \n' },
    });
    const list = await conn.sendRequest<CompletionList>('textDocument/completion', {
      textDocument: { uri },
      position: { line: 2, character: 14 },
    });
    assert.deepEqual(
      list.items.map((i) => i.label),
      ['data/train.csv'],
    );
    const hover = await conn.sendRequest<Hover>('textDocument/hover', {
      textDocument: { uri },
      position: { line: 0, character: 1 },
    });
    assert.match(JSON.stringify(hover.contents), /Fine-tune a pre-trained model/);
  });
});
