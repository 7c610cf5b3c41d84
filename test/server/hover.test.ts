import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MarkupContent } from 'vscode-languageserver';
import { BASE, service, withCursor } from './fixtures';

async function hover(marked: string): Promise<string | undefined> {
  const { document, position } = withCursor(marked);
  const h = await service().doHover(document, position);
  return h ? (h.contents as MarkupContent).value : undefined;
}

describe('hover', () => {
  it('a key: documentation, default, range and Hugging Face name', async () => {
    const text = await hover(BASE.replace('learning_rate', 'learning_|rate'));
    assert.ok(text);
    assert.match(text, /\*\*training\.learning_rate\*\*/);
    assert.match(text, /Peak learning rate of AdamW/);
    assert.match(text, /Default: `0\.00005`/);
    assert.match(text, /Range: in \(0, 10\]/);
    assert.match(text, /Hugging Face: `TrainingArguments\.learning_rate`/);
  });
  it('a section key', async () => {
    assert.match((await hover(BASE.replace('training:', 'train|ing:')))!, /Optimisation and evaluation/);
  });
  it('an enum value: what it means', async () => {
    assert.match((await hover(BASE + '  lr_scheduler_type: cos|ine\n'))!, /half cosine/);
  });
  it('a freeze pattern: the modules it matches and how many parameters it freezes', async () => {
    const text = (await hover(BASE + 'freeze:\n  - bert.encoder.layer.*.atten|tion\n'))!;
    assert.match(text, /- `bert\.encoder\.layer\.0\.attention`\n- `bert\.encoder\.layer\.1\.attention`/);
    // 2 layers × (4 linear 32×32 + biases + LayerNorm): 2 × (4 × (1024 + 32) + 64) = 8576.
    assert.match(text, /matches 20 tensors, 8\.6k parameters/);
    assert.match(text, /Freezes \*\*8\.6k\*\* of 23\.6k parameters/);
  });
  it('a freeze pattern partly re-opened by unfreeze', async () => {
    const text = (await hover(BASE + 'freeze: [be|rt]\nunfreeze: [bert.encoder.layer.1]\n'))!;
    assert.match(text, /re-opened by `unfreeze`/);
  });
  it('a pattern that matches nothing says so', async () => {
    assert.match((await hover(BASE + 'freeze: [bert.nothi|ng]\n'))!, /matches \*\*no parameter\*\*/);
  });
  it('a learning_rates key is a pattern too', async () => {
    assert.match((await hover(BASE + '  learning_rates:\n    classi|fier: 1e-3\n'))!, /matches 2 tensors/);
  });
  it('name_or_path: layers, hidden size and parameters of a local model', async () => {
    const text = (await hover(BASE.replace('models/tiny', 'models/t|iny')))!;
    assert.match(text, /2 layers, hidden size 32, 2 heads, 23\.6k parameters/);
  });
  it('name_or_path: a well-known Hub model, and an unknown Hub id', async () => {
    assert.match(
      (await hover(BASE.replace('models/tiny', 'prajjwal1/bert-ti|ny')))!,
      /2 layers, hidden size 128, .*4\.39M parameters/,
    );
    assert.match((await hover(BASE.replace('models/tiny', 'some-org/some-mo|del')))!, /Hub id/);
  });
  it('nothing on an unknown key or outside any key', async () => {
    assert.equal(await hover(BASE + 'zzz|z: 1\n'), undefined);
    assert.equal(await hover(BASE + '\n|\n'), undefined);
  });
});
