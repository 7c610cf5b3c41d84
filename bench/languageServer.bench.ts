/**
 * How long after a keystroke the diagnostics of a 200-line config arrive (target: 200 ms).
 *
 *   node --import tsx bench/languageServer.bench.ts [--dist] [--edits 30]
 *
 * 1. In process: the language service's validation (schema, cross-field rules, file checks through the real
 *    Node host with its mtime cache) of a new version of the document, against a baseline measured in the same
 *    run: parsing the same text with the `yaml` package alone.
 * 2. End to end: the server process over stdio (the TypeScript source through tsx, or dist/server.js with
 *    `--dist`), from a didChange to the publishDiagnostics of that version, debounce included.
 */
import { spawn } from 'node:child_process';
import { promises as fsp, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { PublishDiagnosticsParams } from 'vscode-languageserver/node';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { parseDocument } from 'yaml';
import { bertParameters, numel } from '../common/bertParams';
import { configSchema } from '../common/config/schema';
import type { FieldSpec, SectionSpec } from '../common/config/spec';
import { serializeSafetensors } from '../files/hf/safetensors';
import { nodeConfigHost } from '../files/configHost';
import { cachingHost, HostCache } from '../server/languageService/cachingHost';
import { createLanguageService } from '../server/languageService/service';

const root = path.resolve(import.meta.dirname, '..');
const arg = (flag: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const edits = Number(arg('--edits') ?? 30);

function stats(xs: number[]): { median: number; p95: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[s.length >> 1]!, p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]! };
}

/** A workspace with a data file and a small BERT model folder, like a user's. */
function workspace(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ftls-bench-'));
  mkdirSync(path.join(dir, 'data'));
  const rows = Array.from({ length: 2000 }, (_, i) => `"text number ${i}, with a comma",${i % 3 ? 'pos' : 'neg'}`);
  writeFileSync(path.join(dir, 'data', 'train.csv'), ['text,label', ...rows].join('\n') + '\n');
  writeFileSync(path.join(dir, 'data', 'val.csv'), ['text,label', ...rows.slice(0, 200)].join('\n') + '\n');
  const cfg = {
    model_type: 'bert',
    vocab_size: 30522,
    hidden_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 512,
    max_position_embeddings: 512,
    type_vocab_size: 2,
  };
  const model = path.join(dir, 'models', 'bert-tiny');
  mkdirSync(model, { recursive: true });
  writeFileSync(path.join(model, 'config.json'), JSON.stringify(cfg));
  const tensors = Object.fromEntries(
    bertParameters(cfg, 'none').map((p) => [p.name, { shape: p.shape, data: new Float32Array(numel(p.shape)) }]),
  );
  writeFileSync(path.join(model, 'model.safetensors'), serializeSafetensors(tensors));
  return dir;
}

/** A 200-line config: every key of the schema with a comment above it, a freeze list and learning rates. */
function config200(): string {
  const lines = [
    '# A long, commented config, as users grow them.',
    'mode: fine-tune',
    'model:',
    '  name_or_path: models/bert-tiny',
  ];
  lines.push('data:', '  train_file: data/train.csv', '  validation_file: data/val.csv');
  const t = configSchema.fields.training as SectionSpec<unknown>;
  lines.push('training:');
  for (const [k, f] of Object.entries(t.fields as Record<string, FieldSpec>)) {
    if (f.default === undefined || typeof f.default === 'object') continue;
    lines.push(
      `  # ${f.description.slice(0, 100)}`,
      `  ${k}: ${typeof f.default === 'string' && /^(no|yes|on|off)$/.test(f.default) ? `"${f.default}"` : f.default}`,
    );
  }
  lines.push('  learning_rates:');
  for (let i = 0; i < 2; i++) lines.push(`    bert.encoder.layer.${i}.*: 1e-4`);
  lines.push('    classifier.*: 1e-3');
  lines.push('freeze:');
  for (let i = 0; lines.length < 190; i++)
    lines.push(
      `  - bert.encoder.layer.${i % 2}.attention.self.${['query', 'key', 'value'][i % 3]}.weight`,
      `  # frozen ${i}`,
    );
  lines.push('unfreeze:', '  - classifier');
  while (lines.length < 200) lines.push('# end');
  return lines.join('\n') + '\n';
}

async function inProcess(dir: string, text: string, cached: boolean): Promise<void> {
  const cache = new HostCache(async (p) => {
    try {
      const s = await fsp.stat(p);
      return `${s.mtimeMs}:${s.size}`;
    } catch {
      return undefined;
    }
  });
  const service = createLanguageService({
    hostFor: () => (cached ? cachingHost(nodeConfigHost(dir), cache) : nodeConfigHost(dir)),
  });
  const uri = pathToFileURL(path.join(dir, 'exp.finetune.yaml')).href;
  const validate: number[] = [];
  const parse: number[] = [];
  let diagnostics = 0;
  for (let i = 0; i < edits + 5; i++) {
    const edited = text.replace(/seed: \d+/, `seed: ${i}`);
    const t0 = performance.now();
    parseDocument(edited);
    const t1 = performance.now();
    const d = await service.doValidation(TextDocument.create(uri, 'finetune-yaml', i + 1, edited));
    const t2 = performance.now();
    diagnostics = d.length;
    if (i >= 5) {
      parse.push(t1 - t0);
      validate.push(t2 - t1);
    }
  }
  const v = stats(validate);
  const p = stats(parse);
  console.log(
    `in-process validation of a ${text.split('\n').length - 1}-line config (${diagnostics} diagnostics), ${edits} edits, file cache ${cached ? 'on' : 'off'}:`,
  );
  console.log(
    `  validation median ${v.median.toFixed(1)} ms, p95 ${v.p95.toFixed(1)} ms; bare YAML parse median ${p.median.toFixed(1)} ms; ratio ${(v.median / p.median).toFixed(1)}x`,
  );
  if (cached) console.log(`  file cache: ${cache.hits} hits, ${cache.misses} misses`);
}

async function endToEnd(dir: string, text: string): Promise<void> {
  const useDist = process.argv.includes('--dist');
  const args = useDist
    ? [path.join(root, 'dist/server.js'), '--stdio']
    : ['--import', 'tsx', path.join(root, 'server/server.ts'), '--stdio'];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const waiting = new Map<number, (t: number) => void>();
  conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    if (p.version !== undefined) waiting.get(p.version)?.(performance.now());
  });
  conn.listen();
  const folder = pathToFileURL(dir).href;
  await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: folder,
    workspaceFolders: [{ uri: folder, name: 'bench' }],
    capabilities: {},
  });
  await conn.sendNotification('initialized', {});
  const uri = pathToFileURL(path.join(dir, 'exp.finetune.yaml')).href;
  const published = (version: number) => new Promise<number>((resolve) => waiting.set(version, resolve));
  let next = published(1);
  await conn.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'finetune-yaml', version: 1, text },
  });
  await next;
  const latency: number[] = [];
  for (let v = 2; v < edits + 2; v++) {
    next = published(v);
    const t0 = performance.now();
    await conn.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: v },
      contentChanges: [{ text: text.replace(/seed: \d+/, `seed: ${v}`) }],
    });
    latency.push((await next) - t0);
    await new Promise((r) => setTimeout(r, 150));
  }
  const s = stats(latency);
  console.log(
    `change -> publishDiagnostics over stdio (${useDist ? 'dist/server.js' : 'server.ts via tsx'}, debounce 75 ms), ${edits} edits:`,
  );
  console.log(
    `  median ${s.median.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms; target 200 ms: ${s.p95 <= 200 ? 'met' : 'MISSED'}`,
  );
  await conn.sendRequest('shutdown');
  await conn.sendNotification('exit');
  conn.dispose();
}

async function main(): Promise<void> {
  const dir = workspace();
  try {
    const text = config200();
    await inProcess(dir, text, false);
    await inProcess(dir, text, true);
    await endToEnd(dir, text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
