/**
 * Issue 17, item 3: the language server completes and checks the columns of a Hub data set that is in the shared
 * Hub cache (`datasets--org--name`, as a run or huggingface_hub left it), reading only a Parquet footer; a data set
 * that is not cached gets no columns and no request.
 */
import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { CompletionItem } from 'vscode-languageserver';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { createLanguageService } from '../../server/languageService/service';
import { nodeConfigHost } from '../../files/configHost';
import { glueParquet, pairRows } from '../fixtures/parquetFixtures';
import { HUB_ENV_VARS } from '../fixtures/hubTestbed';
import { doc, withCursor } from './fixtures';

const root = mkdtempSync(path.join(tmpdir(), 'ds-columns-'));
const SHA = 'a'.repeat(40);
after(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => {
  for (const v of HUB_ENV_VARS) delete process.env[v];
  process.env.HF_HOME = path.join(root, 'hf');
  // Any request would fail: the server must answer from the cache alone.
  process.env.HF_ENDPOINT = 'http://127.0.0.1:9';
});

/** A snapshot as huggingface_hub leaves one: refs/<revision> holds the commit, snapshots/<commit>/<files>. */
function cacheDataset(id: string, files: Record<string, Uint8Array>): void {
  const repo = path.join(root, 'hf', 'hub', `datasets--${id.replace('/', '--')}`);
  mkdirSync(path.join(repo, 'refs', 'refs', 'convert'), { recursive: true });
  writeFileSync(path.join(repo, 'refs', 'refs', 'convert', 'parquet'), SHA);
  for (const [name, data] of Object.entries(files)) {
    const file = path.join(repo, 'snapshots', SHA, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, data);
  }
}

const service = () =>
  createLanguageService({
    hostFor: () => nodeConfigHost(root),
    workspace: { dataFiles: async () => [], modelFolders: async () => [] },
    fileTimeoutMs: 5000,
  });

const CONFIG = (dataset: string, column: string) => `mode: fine-tune
model:
  name_or_path: bert-base-uncased
data:
  dataset_name: ${dataset}
  dataset_config_name: mrpc
  text_column: ${column}
`;

async function complete(marked: string): Promise<CompletionItem[]> {
  const { document, position } = withCursor(marked);
  return (await service().doComplete(document, position)).items;
}

describe('columns of a cached Hub data set', () => {
  it('text_column completes the columns of the cached training split, named as such', async () => {
    cacheDataset('glue-org/glue', { 'mrpc/train/0000.parquet': glueParquet(pairRows(3)) });
    const items = await complete(CONFIG('glue-org/glue', '|'));
    assert.deepEqual(
      items.map((i) => i.label),
      ['sentence1', 'sentence2', 'label', 'idx'],
    );
    assert.equal(items[0]?.detail, 'column of glue-org/glue (mrpc, train), cached');
  });

  it('a column the cached data set lacks is a diagnostic naming the columns it has', async () => {
    cacheDataset('glue-org/glue2', { 'mrpc/train/0000.parquet': glueParquet(pairRows(3)) });
    const diagnostics = await service().doValidation(doc(CONFIG('glue-org/glue2', 'sentence')));
    const missing = diagnostics.filter((d) => d.code === 'missing-column');
    assert.equal(missing.length, 1, JSON.stringify(diagnostics));
    const message = missing[0]!.message;
    assert.match(
      typeof message === 'string' ? message : message.value,
      /glue-org\/glue2 \(mrpc, train\) has no column `sentence`.*`sentence1`/,
    );
  });

  it('a data set that is not cached: no columns, no diagnostic, no download', async () => {
    assert.deepEqual(await complete(CONFIG('glue-org/absent', '|')), []);
    const diagnostics = await service().doValidation(doc(CONFIG('glue-org/absent', 'sentence')));
    assert.deepEqual(
      diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error),
      [],
    );
  });
});
