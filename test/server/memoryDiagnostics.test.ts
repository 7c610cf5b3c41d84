/** The language server's memory diagnostics: the trainer's estimate and verdict, on the keys that decide it. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { bertParameters } from '../../common/bertParams';
import type { ModelInfo } from '../../common/config/fileChecks';
import { BERT_BASE_UNCASED } from '../../common/modelConfig';
import { THREADS_ENV } from '../../common/protocol';
import { defaultFs, doc, service } from './fixtures';

const baseModel: ModelInfo = {
  source: '/ws/models/base',
  config: { ...BERT_BASE_UNCASED, model_type: 'bert' },
  parameters: bertParameters(BERT_BASE_UNCASED, 'masked-lm'),
};

const config = (backend: string, batch: number, extra = '') => `mode: fine-tune
backend: ${backend}
model:
  name_or_path: models/base
data:
  train_file: data/train.csv
  validation_file: data/val.csv
${extra}training:
  per_device_train_batch_size: ${batch}
`;

const text = (x: Diagnostic): string => (typeof x.message === 'string' ? x.message : x.message.value);

async function validate(text: string): Promise<{ d: TextDocument; diags: Diagnostic[] }> {
  const fs = defaultFs();
  fs.models['/ws/models/base'] = baseModel;
  const d = doc(text);
  const s = service(fs);
  return { d, diags: (await s.doValidation(d)).filter((x) => String(x.code).startsWith('memory-')) };
}

describe('memory diagnostics (the same estimate as the trainer)', () => {
  // The trainer's thread count depends on the machine's cores; one thread makes the verdicts the same everywhere.
  let saved: string | undefined;
  before(() => {
    saved = process.env[THREADS_ENV];
    process.env[THREADS_ENV] = '1';
  });
  after(() => {
    if (saved === undefined) delete process.env[THREADS_ENV];
    else process.env[THREADS_ENV] = saved;
  });

  it('a local BERT-base at batch 64 on wasm: an error on the batch size with the largest batch and a quick fix', async () => {
    const { d, diags } = await validate(config('wasm', 64));
    assert.equal(diags.length, 1, JSON.stringify(diags));
    const x = diags[0]!;
    assert.equal(x.code, 'memory-exceeds-backend');
    assert.equal(x.severity, DiagnosticSeverity.Error);
    assert.equal(d.getText(x.range), '64');
    assert.match(text(x), /^At per_device_train_batch_size 64 and max_length 128, one training step needs about/);
    assert.match(text(x), /4\.00 GiB a WebAssembly thread can address/);
    const n = Number(/per_device_train_batch_size to (\d+) or less/.exec(text(x))?.[1]);
    assert.ok(n >= 8 && n < 32, text(x));
    // The quick fix sets the largest batch, which then fits (it may be near the ceiling: a warning at most).
    const fs = defaultFs();
    fs.models['/ws/models/base'] = baseModel;
    const s = service(fs);
    const actions = await s.doCodeActions(d, x.range);
    const fix = actions.find((a) => a.title === `Set per_device_train_batch_size to ${n}`);
    assert.ok(fix, actions.map((a) => a.title).join());
    const fixed = TextDocument.applyEdits(d, fix.edit!.changes![d.uri]!);
    const after = await validate(fixed);
    assert.ok(!after.diags.some((y) => y.code === 'memory-exceeds-backend'), JSON.stringify(after.diags));
  });

  it('data.max_length gets the same verdict with the longest length that fits', async () => {
    const { d, diags } = await validate(config('wasm', 64, '  max_length: 256\n'));
    const onLength = diags.find((x) => d.getText(x.range) === '256');
    assert.ok(onLength, JSON.stringify(diags));
    const s = Number(/max_length (\d+) is the longest that fits/.exec(text(onLength))?.[1]);
    assert.ok(s > 0 && s < 256, text(onLength));
  });

  it('backend auto: a warning that says it assumes WebAssembly', async () => {
    const { diags } = await validate(config('auto', 64));
    assert.equal(diags[0]?.severity, DiagnosticSeverity.Warning);
    assert.match(text(diags[0]!), /Assuming the WebAssembly backend, which `backend: auto` picks/);
  });

  it('nothing for a batch that fits, nor where the editor cannot know the ceiling (webgpu)', async () => {
    assert.deepEqual((await validate(config('wasm', 2))).diags, []);
    assert.deepEqual((await validate(config('webgpu', 64))).diags, []);
  });

  it('a from-scratch architecture and a well-known Hub model are known shapes too', async () => {
    const scratch = `mode: from-scratch
backend: wasm
model:
  tokenizer: models/tiny
  architecture:
    hidden_size: 1024
    num_hidden_layers: 24
    num_attention_heads: 16
    intermediate_size: 4096
    max_position_embeddings: 512
data:
  train_file: data/train.csv
training:
  per_device_train_batch_size: 32
`;
    const a = await validate(scratch);
    assert.equal(a.diags[0]?.code, 'memory-exceeds-backend');
    const hub = await validate(config('wasm', 64).replace('models/base', 'bert-base-uncased'));
    assert.equal(hub.diags[0]?.code, 'memory-exceeds-backend');
  });
});
