import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nodeWorkspaceIndex } from '../../server/workspaceIndex';

describe('the Node workspace index', () => {
  let dir: string;
  const put = (rel: string, text = '') => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  };
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ftls-ws-'));
    put('data/train.csv', 'text,label\n');
    put('data/more/dev.jsonl');
    put('data/notes.txt');
    put('package.json', '{}');
    put('node_modules/pkg/data.csv');
    put('models/tiny/config.json', '{}');
    put('models/tiny/tokenizer.json', '{}');
    put('models/tiny/vocab.csv');
    put('.finetune/runs/exp-1/checkpoint-10/config.json', '{}');
    put('.finetune/runs/exp-1/checkpoint-10/trainer_state.json', '{}');
    put('.git/objects/x.json');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds data files, model folders and checkpoints, and skips tooling and model files', async () => {
    const index = nodeWorkspaceIndex({ roots: [dir], runsFolders: [path.join(dir, '.finetune/runs')] });
    assert.deepEqual((await index.dataFiles()).map((f) => path.relative(dir, f)).sort(), [
      'data/more/dev.jsonl',
      'data/train.csv',
    ]);
    const models = (await index.modelFolders()).map((m) => [path.relative(dir, m.path), m.checkpoint]).sort();
    assert.deepEqual(models, [
      ['.finetune/runs/exp-1/checkpoint-10', true],
      ['models/tiny', false],
    ]);
  });
  it('sees new files once invalidated', async () => {
    const index = nodeWorkspaceIndex({ roots: [dir], runsFolders: [] });
    assert.equal((await index.dataFiles()).length, 2);
    put('data/extra.tsv');
    index.invalidate();
    assert.equal((await index.dataFiles()).length, 3);
  });
  it('stops at the entry budget instead of walking a huge tree', async () => {
    const index = nodeWorkspaceIndex({ roots: [dir], runsFolders: [], maxEntries: 1 });
    assert.ok((await index.dataFiles()).length < 3);
  });
});
