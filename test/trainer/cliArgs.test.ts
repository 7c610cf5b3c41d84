// The command line of `finetune-studio` (trainer/cli/args.ts), in process and as the user runs it: help and
// version, unknown flags with did-you-mean (exit 2), Hugging Face style overrides and their spellings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkRequired, parseCommandLine } from '../../trainer/cli/args';
import { isLocalReference } from '../../common/localPath';
import type { CommandLine, RunCommandLine } from '../../trainer/cli/args';
import { REPO } from './trainerProcess';
import { cli } from './cliProcess';

function run(argv: string[]): RunCommandLine {
  const c: CommandLine = parseCommandLine(argv);
  assert.equal(c.kind, 'run');
  return c as RunCommandLine;
}

function usage(argv: string[], pattern: RegExp): void {
  assert.throws(
    () => {
      const c = parseCommandLine(argv);
      if (c.kind === 'run') checkRequired(c);
    },
    (e: unknown) => {
      assert.equal((e as { code?: string }).code, 'usage');
      assert.match((e as Error).message, pattern);
      return true;
    },
  );
}

test('overrides: bare keys, dotted keys and dashed spellings all name a schema key; the flag is kept as typed', () => {
  const c = run([
    'train',
    'a.finetune.yaml',
    '--learning_rate',
    '3e-5',
    '--model.name_or_path=./m',
    '--per-device-train-batch-size',
    '8',
    '--max-steps',
    '1',
  ]);
  assert.deepEqual(c.positionals, ['a.finetune.yaml']);
  assert.deepEqual(
    c.overrides.map((o) => [o.flag, o.path.join('.'), o.raw]),
    [
      ['--learning_rate', 'training.learning_rate', '3e-5'],
      ['--model.name_or_path', 'model.name_or_path', './m'],
      ['--per-device-train-batch-size', 'training.per_device_train_batch_size', '8'],
      ['--max-steps', 'training.max_steps', '1'],
    ],
  );
});

test('unknown flags are usage errors with a suggestion; Hugging Face names point at this schema', () => {
  usage(['train', 'a.yaml', '--max_step', '1'], /unknown option --max_step\. Did you mean --max_steps\?/);
  usage(['train', 'a.yaml', '--lerning_rate', '1'], /Did you mean --learning_rate\?/);
  usage(['train', 'a.yaml', '--model_name_or_path', 'x'], /here it is --model\.name_or_path/);
  usage(['train', 'a.yaml', '--deepspeed'], /--deepspeed is not supported: .*engine: pytorch/);
  usage(['predict', '--model', 'm', '--txt', 'a'], /Did you mean --text\?/);
  usage(['predict', '--model', 'm', '--learning_rate', '1'], /predict takes no config keys/);
  usage(['evaluate', '--model', 'm', '--text', 'a'], /--text is an option of predict, not of evaluate/);
  usage(['train', 'a.yaml', '--model', 'x'], /--model is a section of the config: .* --model\.name_or_path/);
  usage(['trian'], /unknown command trian\. Did you mean `train`\?/);
  usage(['train', 'a.yaml', '--backend', 'tpu'], /--backend must be one of/);
  usage(['train', 'a.yaml', 'b.yaml'], /unexpected argument b\.yaml/);
  usage(['train', 'a.yaml', '--learning_rate'], /--learning_rate needs a value/);
  usage(['train', 'a.yaml', '--weight_decay', '-1'], /written --weight_decay=-1/);
});

test('predict: texts and pairs in order, or a file; each --text-pair needs its --text', () => {
  const c = run(['predict', '--model', 'm', '--text', 'a', '--text-pair', 'b', '--text', 'c', '--text-pair', 'd']);
  assert.deepEqual(c.flags.get('text'), ['a', 'c']);
  assert.deepEqual(c.flags.get('text-pair'), ['b', 'd']);
  checkRequired(c);
  usage(['predict', '--model', 'm', '--text', 'a', '--text', 'b', '--text-pair', 'x'], /each --text needs its/);
  usage(['predict', '--model', 'm', '--file', 'f', '--text', 'a'], /--text or --file, not both/);
  usage(['predict', '--model', 'm'], /predict needs --text/);
  // The trainer, forked by the extension, takes the text from stdin instead.
  checkRequired(run(['predict', '--model', 'm']), { textsFromHost: true });
});

test('help and version exit 0 and print to stdout; no command or an unknown flag exits 2', async () => {
  const version = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const v = await cli(['--version'], REPO);
  assert.equal(v.code, 0);
  assert.equal(v.stdout, `${version}\n`);
  const h = await cli(['--help'], REPO);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^ {2}train {5}train or fine-tune/m);
  assert.match(h.stdout, /^ {2}130 {2}stopped with Ctrl-C/m);
  for (const command of ['train', 'evaluate', 'predict']) {
    const r = await cli([command, '--help'], REPO);
    assert.equal(r.code, 0, `${command} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: finetune-studio ${command} `));
    assert.match(r.stdout, /^Exit status:$/m);
  }
  assert.match((await cli(['train', '-h'], REPO)).stdout, /Config overrides \(Hugging Face style\)/);
  const none = await cli([], REPO);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no command given/);
  const bad = await cli(['train', 'x.finetune.yaml', '--max_step', '1'], REPO);
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, '', 'no trainer was started');
  assert.match(bad.stderr, /^finetune-studio: unknown option --max_step\. Did you mean --max_steps\?$/m);
});

test('a reference is local when spelled as a path, or when it or its first folder exists; else maybe a Hub id', async () => {
  const existing = new Set(['/ws/runs', '/ws/models/tiny']);
  const local = (s: string) =>
    isLocalReference(
      s,
      (p) => path.posix.resolve('/ws', p),
      async (p) => existing.has(p),
    );
  for (const s of ['./m', '../m', '/abs/m', '~/m', 'C:\\m', 'a\\b', 'a/b/c', 'runs/nope', 'models/tiny']) {
    assert.equal(await local(s), true, s);
  }
  for (const s of ['bert-base-uncased', 'google/bert_uncased_L-2_H-128_A-2', 'org/name']) {
    assert.equal(await local(s), false, s);
  }
});
