// Issue 17, sentence pairs in the editor: `data.text_pair_column` is completed from the training file's columns
// (never the text or label column), its hover lists them and says when the one written is missing, and a pair
// column that is missing from the file or repeats the text column is a diagnostic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompletionItem, MarkupContent } from 'vscode-languageserver';
import { defaultFs, doc, service, withCursor } from './fixtures';

function pairFs() {
  const fs = defaultFs();
  fs.files['/ws/data/pairs.csv'] = 'sentence1,sentence2,label,idx\nthe cat sat,a cat sat,1,0\nhi,bye,0,1\n';
  return fs;
}

const PAIRS = `mode: fine-tune
model:
  name_or_path: models/tiny
data:
  train_file: data/pairs.csv
  text_column: sentence1
  label_column: label
  max_length: 64
`;

async function complete(marked: string): Promise<CompletionItem[]> {
  const { document, position } = withCursor(marked);
  return (await service(pairFs()).doComplete(document, position)).items;
}

async function hover(marked: string): Promise<string | undefined> {
  const { document, position } = withCursor(marked);
  const h = await service(pairFs()).doHover(document, position);
  return h ? (h.contents as MarkupContent).value : undefined;
}

async function problems(text: string): Promise<{ code: string; message: string; at: string; error: boolean }[]> {
  const d = doc(text);
  return (await service(pairFs()).doValidation(d)).map((x) => ({
    code: String(x.code),
    message: String(x.message),
    at: d.getText(x.range),
    error: x.severity === 1,
  }));
}

describe('text_pair_column', () => {
  it('completes the columns of the training file, without the text and label columns', async () => {
    const items = await complete(PAIRS + '  text_pair_column: |\n');
    assert.deepEqual(
      items.map((i) => i.label),
      ['sentence2', 'idx'],
    );
    assert.equal(items[0]!.detail, 'column of data/pairs.csv');
  });
  it('the key is offered in the data section with its documentation', async () => {
    const item = (await complete(PAIRS + '  text_pair|\n')).find((i) => i.label === 'text_pair_column');
    assert.ok(item, 'text_pair_column is completed as a key');
    assert.match((item.documentation as MarkupContent).value, /second text of a sentence pair/);
  });
  it('hover on the key: its documentation and the columns of the training file', async () => {
    const text = await hover(PAIRS + '  text_pair_col|umn: sentence2\n');
    assert.ok(text);
    assert.match(text, /\*\*data\.text_pair_column\*\*/);
    assert.match(text, /Columns of data\/pairs\.csv: `sentence1`, `sentence2`, `label`, `idx`/);
    assert.doesNotMatch(text, /has no column/);
  });
  it('hover on a value the file lacks says so', async () => {
    const text = await hover(PAIRS + '  text_pair_column: sentence|3\n');
    assert.match(text ?? '', /\*\*data\/pairs\.csv has no column `sentence3`\.\*\*/);
  });
  it('a clean pair config has no diagnostic', async () => {
    assert.deepEqual(await problems(PAIRS + '  text_pair_column: sentence2\n'), []);
  });
  it('a pair column missing from the file is an error on its value, with the near name as a fix', async () => {
    const found = (await problems(PAIRS + '  text_pair_column: sentence3\n')).filter(
      (p) => p.code === 'missing-column',
    );
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0]!.at, 'sentence3');
    assert.ok(found[0]!.error);
    assert.match(found[0]!.message, /no column `sentence3` \(text_pair_column\).*Did you mean `sentence[12]`\?/);
  });
  it('a pair column equal to the text column is an error on the pair column', async () => {
    const found = await problems(PAIRS + '  text_pair_column: sentence1\n');
    assert.deepEqual(found, [
      {
        code: 'same-column',
        message:
          '`data.text_pair_column` names `sentence1`, the same column as `data.text_column`: the second text of a ' +
          'pair is another column than the first (e.g. `sentence2` for `sentence1`).',
        at: 'sentence1',
        error: true,
      },
    ]);
  });
  it('equal to the default text column too, and a label column that is a text is an error as well', async () => {
    const defaults = PAIRS.replace('  text_column: sentence1\n', '').replace('data/pairs.csv', 'data/train.csv');
    const pairIsText = await problems(defaults.replace('label_column: label', 'text_pair_column: text'));
    assert.deepEqual(
      pairIsText.map((p) => [p.code, p.at]),
      [['same-column', 'text']],
    );
    const labelIsPair = await problems(PAIRS + '  text_pair_column: label\n');
    assert.deepEqual(
      labelIsPair.map((p) => [p.code, p.at]),
      [['same-column', 'label']],
    );
    assert.match(
      labelIsPair[0]!.message,
      /`data.label_column` names `label`, the same column as `data.text_pair_column`/,
    );
  });
  it('masked-lm reads the pair column too: a missing one is an error', async () => {
    const mlm = PAIRS.replace('mode: fine-tune', 'mode: fine-tune\ntask: masked-lm').replace(
      '  label_column: label\n',
      '',
    );
    const found = await problems(mlm + '  text_pair_column: nope\n');
    assert.deepEqual(
      found.filter((p) => p.code === 'missing-column').map((p) => p.at),
      ['nope'],
    );
  });
});
