import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkConfigFiles, configParameters, looksLikeHubId } from '../../common/config/fileChecks';
import { validateConfigText } from '../../common/config/validate';
import type { ConfigDiagnostic } from '../../common/config/diagnostic';
import { applyFix, codes, covered, defaultFs, find, memoryHost } from './configHelpers';
import { bertParameters } from '../../common/bertParams';

/** A config over the in-memory workspace (/ws): the tiny model, its data, lengths the model can take. */
const BASE = `mode: fine-tune
model:
  name_or_path: models/tiny
data:
  train_file: data/train.csv
  validation_file: data/val.csv
  max_length: 64
training:
  learning_rate: 3e-5
`;

async function fileCheck(text: string): Promise<ConfigDiagnostic[]> {
  const r = validateConfigText(text);
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
    'the schema part must be valid for these tests',
  );
  return checkConfigFiles(r.config, r.document, memoryHost(defaultFs()));
}

async function expectCode(text: string, code: string, at?: string): Promise<ConfigDiagnostic> {
  const ds = await fileCheck(text);
  const d = find(ds, code);
  assert.ok(d, `expected ${code} in ${JSON.stringify(codes(ds))}`);
  if (at !== undefined) assert.equal(covered(text, d), at);
  return d;
}
async function expectNo(text: string, code: string): Promise<void> {
  assert.ok(!codes(await fileCheck(text)).includes(code), `unexpected ${code}`);
}

describe('config file checks (in-memory host)', () => {
  it('the base config passes every file check', async () => {
    assert.deepEqual(await fileCheck(BASE), []);
  });
  it('a data file that does not exist', async () => {
    const d = await expectCode(BASE.replace('data/train.csv', 'data/nope.csv'), 'file-not-found', 'data/nope.csv');
    assert.match(d.message, /\/ws\/data\/nope\.csv/);
  });
  it('a column the file does not have, with a did-you-mean fix', async () => {
    const text = BASE.replace('  max_length: 64\n', '  max_length: 64\n  text_column: txt\n');
    const d = await expectCode(text, 'missing-column', 'txt');
    assert.match(d.message, /its columns are `text`, `label`/);
    assert.deepEqual(await fileCheck(applyFix(text, d.fixes![0]!)), []);
  });
  it('a label column with a single class', async () => {
    const text = BASE.replace('data/train.csv', 'data/one.csv').replace(
      '  max_length: 64\n',
      '  max_length: 64\n  text_column: sentence\n',
    );
    const d = await expectCode(text, 'single-class');
    assert.match(d.message, /single class \(`pos`\)/);
    await expectNo(BASE, 'single-class');
  });
  it("max_length above the pre-trained model's max_position_embeddings", async () => {
    await expectCode(BASE.replace('max_length: 64', 'max_length: 128'), 'max-length-over-positions', '128');
    await expectNo(BASE, 'max-length-over-positions');
  });
  it("a RoBERTa's positions start after pad_token_id, and its module names replace BERT's", async () => {
    const shape = { vocab_size: 100, hidden_size: 32, num_hidden_layers: 2, intermediate_size: 64, type_vocab_size: 1 };
    const config = { ...shape, max_position_embeddings: 64, model_type: 'roberta', pad_token_id: 1 };
    const rob = { source: '/ws/models/rob', config, parameters: bertParameters(config, 'masked-lm') };
    const fs = defaultFs();
    fs.models['/ws/models/rob'] = rob;
    const check = async (text: string) => {
      const r = validateConfigText(text);
      return checkConfigFiles(r.config, r.document, memoryHost(fs));
    };
    const over = find(
      await check(BASE.replace('models/tiny', 'models/rob').replace('64', '63')),
      'max-length-over-positions',
    );
    assert.match(over?.message ?? '', /takes 62 tokens/);
    assert.ok(
      !codes(await check(BASE.replace('models/tiny', 'models/rob').replace('64', '62'))).includes(
        'max-length-over-positions',
      ),
    );
    const r = validateConfigText(BASE.replace('models/tiny', 'models/rob'));
    const names = (await configParameters(r.config, memoryHost(fs)))!.map((p) => p.name);
    assert.ok(names.includes('roberta.encoder.layer.1.output.dense.weight'));
    assert.ok(names.includes('classifier.out_proj.weight') && !names.some((n) => n.startsWith('lm_head.')));
  });
  it('a model path that is neither a folder nor a Hub id; a Hub id is accepted', async () => {
    await expectCode(BASE.replace('models/tiny', './models/none'), 'model-not-found', './models/none');
    await expectNo(BASE.replace('models/tiny', 'prajjwal1/bert-tiny'), 'model-not-found');
    assert.equal(looksLikeHubId('prajjwal1/bert-tiny'), true);
    assert.equal(looksLikeHubId('./models/none'), false);
  });
  it('a tokenizer folder that does not exist', async () => {
    await expectCode(BASE.replace('model:\n', 'model:\n  tokenizer: ../tok/\n'), 'tokenizer-not-found', '../tok/');
    await expectNo(BASE.replace('model:\n', 'model:\n  tokenizer: models/tiny\n'), 'tokenizer-not-found');
  });
  it('resume_from_checkpoint that is not a checkpoint', async () => {
    await expectCode(
      BASE + '  resume_from_checkpoint: runs/x/checkpoint-5\n',
      'checkpoint-not-found',
      'runs/x/checkpoint-5',
    );
  });
  it('a freeze pattern that matches nothing is a warning with a did-you-mean fix', async () => {
    const text = BASE + 'freeze:\n  - bert.embedings\n';
    const d = await expectCode(text, 'pattern-matches-nothing', 'bert.embedings');
    assert.equal(d.severity, 'warning');
    assert.deepEqual(await fileCheck(applyFix(text, d.fixes![0]!)), []);
    await expectNo(BASE + 'freeze:\n  - bert.encoder.layer.[0-1].attention\n', 'pattern-matches-nothing');
  });
  it('an unfreeze pattern or a learning_rates pattern that matches nothing', async () => {
    await expectCode(
      BASE + 'freeze: [bert]\nunfreeze: [bert.encoder.layer.7]\n',
      'pattern-matches-nothing',
      'bert.encoder.layer.7',
    );
    await expectCode(BASE + '  learning_rates:\n    head.*: 1e-3\n', 'pattern-matches-nothing', 'head.*');
    await expectNo(BASE + '  learning_rates:\n    classifier.*: 1e-3\n', 'pattern-matches-nothing');
  });
  it('freezing every parameter is an error; unfreezing the head passes', async () => {
    const d = await expectCode(BASE + 'freeze: ["*"]\n', 'everything-frozen', 'freeze');
    assert.equal(d.severity, 'error');
    assert.deepEqual(await fileCheck(applyFix(BASE + 'freeze: ["*"]\n', d.fixes![0]!)), []);
    await expectCode(BASE + 'freeze: [bert, classifier]\n', 'everything-frozen');
    await expectNo(BASE + 'freeze: ["*"]\nunfreeze: [classifier]\n', 'everything-frozen');
    await expectNo(BASE + 'freeze: [bert]\n', 'everything-frozen');
  });
  it('from scratch: the parameters come from the architecture', async () => {
    const text =
      'mode: from-scratch\nmodel:\n  tokenizer: models/tiny\n  architecture:\n    hidden_size: 64\n    num_hidden_layers: 3\n    num_attention_heads: 2\ndata:\n  train_file: data/train.csv\nfreeze: [bert.encoder.layer.5]\n';
    await expectCode(text, 'pattern-matches-nothing', 'bert.encoder.layer.5');
    const r = validateConfigText(text);
    const params = await configParameters(r.config, memoryHost(defaultFs()));
    assert.ok(params?.some((p) => p.name === 'bert.encoder.layer.2.output.dense.weight'));
    assert.ok(!params?.some((p) => p.name.startsWith('bert.encoder.layer.3.')));
  });
});
