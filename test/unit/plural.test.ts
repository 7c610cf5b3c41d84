/** Counts read as English in the CLI, notifications and logs: "1 step", never "1 steps". */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { plural } from '../../common/plural';
import type { TrainerMessage } from '../../common/protocol';
import { ProgressView } from '../../trainer/cliView';

test('plural: the singular for exactly one, the plural otherwise, an irregular plural when named', () => {
  assert.equal(plural(1, 'step'), '1 step');
  assert.equal(plural(2, 'step'), '2 steps');
  assert.equal(plural(0, 'step'), '0 steps');
  assert.equal(plural(1, 'class', 'classes'), '1 class');
  assert.equal(plural(3, 'class', 'classes'), '3 classes');
});

/** What a plain (not a terminal) ProgressView prints while `use` shows it things. */
function printed(use: (view: ProgressView) => void): string {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk.toString());
      done();
    },
  });
  use(new ProgressView(sink, false));
  return out.join('');
}

test('the CLI says "1 step" and "1 validation example" for a one-step run', () => {
  const plan = (totalSteps: number, evalExamples: number): TrainerMessage => ({
    type: 'plan',
    runId: 'r',
    runDir: '/runs/r',
    mode: 'from-scratch',
    task: 'text-classification',
    totalSteps,
    stepsPerEpoch: totalSteps,
    epochs: 1,
    trainExamples: 8,
    evalExamples,
  });
  assert.match(
    printed((v) => v.message(plan(1, 1))),
    /^run r: from-scratch text-classification, 8 training \/ 1 validation example, 1 step\n/,
  );
  assert.match(
    printed((v) => v.message(plan(40, 0))),
    /8 training \/ 0 validation examples, 40 steps\n/,
  );
});

test("the CLI's evaluate line counts its examples in English", () => {
  const line = (examples: number) => printed((v) => v.evaluation({ examples, metrics: { accuracy: 1 } }));
  assert.equal(line(1), '1 example: accuracy 1\n');
  assert.equal(line(12), '12 examples: accuracy 1\n');
});
