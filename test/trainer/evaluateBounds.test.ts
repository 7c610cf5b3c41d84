// Issue 13, defect 4: an evaluation over thousands of classes stays a small, valid `eval` message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Encoded } from '../../trainer/data/collate';
import { boundClassDetail, clipLabel, evaluate } from '../../trainer/engine/evaluate';
import { BertModel } from '../../trainer/model/bert';
import { classificationMetrics } from '../../common/metrics';
import { CLASS_DETAIL, encodeMessage, parseTrainerMessage } from '../../common/protocol';
import type { TrainerMessage } from '../../common/protocol';
import { TINY, useBackend } from './modelFixtures';

function evalLine(r: Awaited<ReturnType<typeof evaluate>>): string {
  // Built as the training loop builds it (train.ts), from whatever tables the evaluation returned.
  const m = {
    type: 'eval',
    step: 1,
    epoch: 1,
    split: 'validation',
    metrics: r.metrics,
    isBest: true,
    ...(r.labels ? { labels: r.labels } : {}),
    ...(r.confusion ? { confusion: r.confusion } : {}),
    ...(r.perClass ? { perClass: r.perClass } : {}),
    ...(r.classes !== undefined ? { classes: r.classes } : {}),
  } as TrainerMessage;
  return encodeMessage(m);
}

test('2,900 free-text labels: no matrix, the 100 best-supported classes, and a line of a few KB', async () => {
  await useBackend('wasm');
  const k = 2900;
  const model = BertModel.create(TINY, 'sequence-classification', { numLabels: k, seed: 1 });
  try {
    const names = Array.from({ length: k }, (_, i) => `label ${i} ${'x'.repeat(500)}`);
    // Every 29th class has two examples, the others one: the 100 best supported are exactly those.
    const examples: Encoded[] = [];
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < (i % 29 ? 1 : 2); j++) {
        examples.push({ inputIds: [2, 1 + (i % 18), 3], tokenTypeIds: [0, 0, 0], label: i });
      }
    }
    const r = await evaluate(model, examples, { batchSize: 512, padId: 0, labelNames: names });
    const line = evalLine(r);
    assert.ok(line.length < 64 * 1024, `eval line of ${line.length} characters`);
    const parsed = parseTrainerMessage(line.trim());
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    assert.equal(r.confusion, undefined);
    assert.equal(r.labels, undefined);
    assert.equal(r.classes, k);
    assert.equal(r.perClass!.length, CLASS_DETAIL.perClassTop);
    assert.ok(r.perClass!.every((p) => p.support === 2 && p.label.length === CLASS_DETAIL.labelChars));
    assert.deepEqual(
      r.perClass!.slice(0, 2).map((p) => p.label.split(' ')[1]),
      ['0', '29'],
      'ties keep label order',
    );
  } finally {
    model.dispose();
  }
});

test('a few classes keep every table; long names are cut and marked', () => {
  const names = ['a', 'b', 'y'.repeat(500)];
  const m = classificationMetrics([0, 1, 2, 2], [0, 2, 2, 1], names);
  const d = boundClassDetail(m, names);
  assert.deepEqual(d.confusion, m.confusion);
  assert.deepEqual(d.labels, ['a', 'b', `${'y'.repeat(199)}…`]);
  assert.equal(d.perClass!.length, 3);
  assert.equal(d.classes, undefined);
  assert.equal(clipLabel('short'), 'short');
});
