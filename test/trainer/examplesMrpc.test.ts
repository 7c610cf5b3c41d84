/**
 * Issue 17, item 4: examples/mrpc's configs, as shipped, train against the fake Hub: `google-bert/bert-base-uncased`
 * served as a tiny BERT, `nyu-mll/glue` as tiny Parquet files of the MRPC layout. Two steps each; the scratch twin
 * with a tiny architecture in place of BERT-base's (its 110M parameters would take minutes per step here).
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { hubTestbed } from '../fixtures/hubTestbed';
import { mrpcFiles } from '../fixtures/parquetFixtures';
import { runEngine, wasmBackend } from './engineRunner';
import { tinyBertFiles } from './tinyHubBert';

const bed = hubTestbed('mrpc-example-');
before(async () => {
  await wasmBackend();
});
const examples = path.resolve(__dirname, '..', '..', 'examples', 'mrpc');
const tinyBert = () => tinyBertFiles(path.join(bed.sb.root, 'tiny-bert'));

/** The shipped config in a workspace two folders deep (its output_dir is ../../.finetune/runs). */
function copyExample(name: string, edit?: (c: Record<string, Record<string, unknown>>) => void): string {
  const dir = path.join(bed.sb.root, 'ws', 'examples', 'mrpc');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.finetune.yaml`);
  copyFileSync(path.join(examples, `${name}.finetune.yaml`), file);
  if (edit) {
    const config = parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
    edit(config);
    writeFileSync(file, stringify(config));
  }
  return file;
}

test('examples/mrpc/finetune.finetune.yaml trains 2 steps on nyu-mll/glue mrpc with the Hub pointed at the fake', async () => {
  bed.hub.addRepo('google-bert/bert-base-uncased', await tinyBert());
  bed.hub.addDataset('nyu-mll/glue', mrpcFiles({ train: 40, validation: 8 }));
  const run = await runEngine(copyExample('finetune'), { maxSteps: 2 });
  assert.equal(run.done.status, 'completed', JSON.stringify(run.done));
  assert.equal(run.done.step, 2);
  const plan = run.of('plan')[0]!;
  assert.deepEqual(plan.labels, ['not_equivalent', 'equivalent'], 'ClassLabel names, in the data set id order');
  assert.deepEqual([plan.trainExamples, plan.evalExamples], [40, 8]);
  assert.ok(run.of('eval').length > 0, 'evaluated on the validation split');
  assert.ok(run.runDir.startsWith(path.join(bed.sb.root, 'ws', '.finetune', 'runs')), run.runDir);
  assert.ok(bed.hub.count(/^\/datasets\/nyu-mll\/glue\/resolve\//) > 0, 'the data came from the Hub');
});

test('examples/mrpc/scratch.finetune.yaml (tiny architecture) trains 2 steps with the Hub tokenizer and data set', async () => {
  bed.hub.addRepo('google-bert/bert-base-uncased', await tinyBert());
  bed.hub.addDataset('nyu-mll/glue', mrpcFiles({ train: 40, validation: 8 }));
  const file = copyExample('scratch', (c) => {
    c.model!.architecture = { hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32 };
  });
  const weightsBefore = bed.hub.count(/\/model\.safetensors/);
  const run = await runEngine(file, { maxSteps: 2 });
  assert.equal(run.done.status, 'completed', JSON.stringify(run.done));
  assert.equal(run.done.step, 2);
  assert.equal(bed.hub.count(/\/model\.safetensors/), weightsBefore, 'from scratch: no weights fetched');
});
