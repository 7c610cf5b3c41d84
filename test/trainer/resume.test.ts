import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { readSafetensors } from '../../files/hf/safetensors';
import { makeWorkspace, withOverrides, writeConfig } from './engineFixtures';
import { runEngine } from './engineRunner';

test('a run stopped at step N and resumed equals the uninterrupted run at step 2N (losses and weights)', async () => {
  const N = 4;
  // Dropout on, warm-up and decay on, weight decay on, two micro-batches per step: every piece of state matters.
  const training = {
    max_steps: 2 * N,
    gradient_accumulation_steps: 2,
    warmup_steps: 2,
    weight_decay: 0.01,
    save_strategy: 'no',
  };
  const ws = makeWorkspace({
    training,
    model: { architecture: { hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 } },
  });
  const full = await runEngine(ws.configFile);
  assert.equal(full.done.status, 'completed');

  const control = { stop: false, saveNow: false, cancel: false };
  const stopped = await runEngine(ws.configFile, {
    control,
    onStepEnd: (s) => {
      if (s === N) control.stop = true;
    },
  });
  assert.equal(stopped.done.status, 'stopped');
  assert.equal(stopped.done.step, N);
  const ckpt = stopped.done.lastCheckpoint!;
  assert.equal(path.basename(ckpt), `checkpoint-${N}`);
  // Up to the stop, both runs did the same.
  assert.deepEqual(
    stopped.of('step').map((m) => m.loss),
    full
      .of('step')
      .slice(0, N)
      .map((m) => m.loss),
  );

  const resumedFile = path.join(ws.dir, 'resumed.finetune.yaml');
  writeConfig(
    resumedFile,
    withOverrides({
      training: { ...training, resume_from_checkpoint: ckpt },
      model: { architecture: { hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 } },
    }),
  );
  const resumed = await runEngine(resumedFile);
  assert.equal(resumed.of('plan')[0]!.resumedFromStep, N);
  const tail = full.of('step').filter((m) => m.step > N);
  assert.deepEqual(
    resumed.of('step').map((m) => m.step),
    tail.map((m) => m.step),
  );
  assert.deepEqual(
    resumed.of('step').map((m) => m.loss),
    tail.map((m) => m.loss),
  );
  assert.deepEqual(
    resumed.of('step').map((m) => m.learningRate),
    tail.map((m) => m.learningRate),
  );

  const a = (await readSafetensors(path.join(full.done.lastCheckpoint!, 'model.safetensors'))).tensors;
  const b = (await readSafetensors(path.join(resumed.done.lastCheckpoint!, 'model.safetensors'))).tensors;
  assert.equal(a.size, b.size);
  for (const [k, t] of a) assert.deepEqual(b.get(k)!.data, t.data, `${k} differs after resume`);
});
