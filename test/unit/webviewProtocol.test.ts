import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMessage, emptyRunSeries } from '../../common/runSeries';
import type { TrainerMessage } from '../../common/protocol';
import {
  SequenceReceiver,
  SequenceSender,
  checkCommand,
  checkHostToWebview,
  checkWebviewToHost,
  metricsAppend,
  metricsCommands,
  metricsState,
} from '../../common/webviewProtocol';

test('appends in order apply; a gap asks once for a snapshot and waits for it', () => {
  const send = new SequenceSender();
  const recv = new SequenceReceiver();
  assert.equal(recv.accept(send.append('early')), 'ignore', 'nothing applies before the first snapshot');
  assert.equal(recv.accept(send.snapshot({})), 'apply');
  assert.equal(recv.accept(send.append(1)), 'apply');
  send.append(2); // lost
  assert.equal(recv.accept(send.append(3)), 'resync');
  assert.equal(recv.accept(send.append(4)), 'ignore', 'no second request while waiting');
  assert.equal(recv.accept(send.snapshot({})), 'apply');
  assert.equal(recv.accept(send.append(5)), 'apply');
});

test('a duplicate append is ignored, not treated as a gap', () => {
  const send = new SequenceSender();
  const recv = new SequenceReceiver();
  recv.accept(send.snapshot({}));
  const a = send.append('a');
  assert.equal(recv.accept(a), 'apply');
  assert.equal(recv.accept(a), 'ignore');
  assert.equal(recv.lastSeq, a.seq);
});

test('envelopes are validated both ways', () => {
  assert.equal(checkWebviewToHost({ type: 'ready' }).ok, true);
  assert.equal(checkWebviewToHost({ type: 'resync', lastSeq: 'x' }).ok, false);
  assert.equal(checkWebviewToHost({ type: 'eval-js' }).ok, false);
  assert.equal(checkHostToWebview({ type: 'append', seq: 1.5, item: {} }).ok, false);
  const c = checkCommand(metricsCommands, { name: 'stop', args: { runId: 3 } });
  assert.equal(c.ok, false);
  assert.match(c.ok ? '' : c.error, /runId/);
  assert.equal(checkCommand(metricsCommands, { name: 'rm', args: {} }).ok, false);
});

test('a metrics snapshot built from trainer messages passes its guard; a bad append does not', () => {
  const s = emptyRunSeries('r1');
  const step: TrainerMessage = {
    type: 'step',
    step: 1,
    epoch: 0.1,
    loss: 0.7,
    learningRate: 1e-5,
    gradNorm: null,
    samplesPerSecond: 10,
    tokensPerSecond: 100,
    elapsedMs: 5,
    etaMs: null,
  };
  applyMessage(s, step);
  assert.equal(applyMessage(s, { ...step }), false, 'replayed step ignored');
  const state = { runs: [{ info: { runId: 'r1', live: true, config: {} }, series: s }] };
  assert.equal(metricsState.check(JSON.parse(JSON.stringify(state))), undefined);
  assert.notEqual(metricsAppend.check({ runId: 'r1', messages: [{ type: 'step', step: 'two' }] }), undefined);
  assert.notEqual(metricsAppend.check({ runId: 'r1', messages: [{ type: 'rm -rf' }] }), undefined);
  assert.equal(
    metricsAppend.check({ runId: 'r1', messages: [{ type: 'log', level: 'info', message: 'hi' }] }),
    undefined,
  );
});

test('a resumed plan drops the steps after the checkpoint', () => {
  const s = emptyRunSeries('r');
  for (let i = 1; i <= 5; i++)
    applyMessage(s, {
      type: 'step',
      step: i,
      epoch: i / 5,
      loss: 1 / i,
      learningRate: 1,
      gradNorm: 1,
      samplesPerSecond: 1,
      tokensPerSecond: 1,
      elapsedMs: i,
      etaMs: 0,
    });
  applyMessage(s, {
    type: 'plan',
    runId: 'r',
    runDir: '/x',
    mode: 'fine-tune',
    task: 'text-classification',
    totalSteps: 10,
    stepsPerEpoch: 5,
    epochs: 2,
    trainExamples: 5,
    evalExamples: 1,
    resumedFromStep: 3,
  });
  assert.deepEqual(s.steps.step, [1, 2, 3]);
  assert.equal(s.steps.loss.length, 3);
});
