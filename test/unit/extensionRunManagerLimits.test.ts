// Issue 13: a line over the protocol's limit from a healthy trainer is a warning and the run completes (it used to
// be failed as "a bug in the trainer"); in Restricted Mode no trainer is started at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';
import { RunManager } from '../../extension/runManager';
import type { RunInfo } from '../../extension/runModel';

const dir = mkdtempSync(path.join(tmpdir(), 'ft-manager-limits-'));
const trainer = path.join(dir, 'fake-trainer.js');
writeFileSync(
  trainer,
  `
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
send({ type: 'hello', protocolVersion: 1, engineVersion: 'fake', pid: process.pid,
  backend: { name: 'cpu', reason: 'fake', tried: [] } });
send({ type: 'plan', runId: 'big', runDir: 'big', mode: 'fine-tune', task: 'text-classification', totalSteps: 2,
  stepsPerEpoch: 2, epochs: 1, trainExamples: 4, evalExamples: 2 });
// An eval of thousands of classes from a trainer without the bound: 17 MiB on one line, written in pieces.
const labels = JSON.stringify(Array.from({ length: 3000 }, (_, i) => 'label ' + i + ' ' + 'x'.repeat(6000)));
process.stdout.write('{"type":"eval","step":1,"epoch":1,"split":"validation","metrics":{"loss":1},"labels":');
process.stdout.write(labels);
process.stdout.write(',"isBest":true}\\n');
send({ type: 'step', step: 2, epoch: 1, loss: 0.5, learningRate: 0, gradNorm: 1, samplesPerSecond: 1,
  tokensPerSecond: 1, elapsedMs: 1, etaMs: 0 });
process.stderr.write('E'.repeat(1000000) + '\\n');
send({ type: 'done', status: 'completed', step: 2, elapsedMs: 5 });
`,
);

test('a line over the length limit from a live trainer is skipped with a warning, and the run completes', async () => {
  const logged: string[] = [];
  const m = new RunManager({
    trainerPath: trainer,
    maxParallel: () => 1,
    stopGraceMs: () => 2000,
    log: (_run, stream, line) => logged.push(`${stream}: ${line}`),
  });
  const seen: string[] = [];
  const r = m.start(path.join(dir, 'big.finetune.yaml'));
  m.onMessage(r.id, (msg) => seen.push(msg.type));
  const end = await new Promise<RunInfo>((resolve) => m.onDidEndRun((x) => x.id === r.id && resolve(x)));
  assert.equal(end.status, 'completed', end.reason);
  assert.equal(end.step, 2);
  assert.deepEqual(seen, ['hello', 'plan', 'step', 'done']);
  const warning = logged.find((l) => /skipped a line of \d+ characters/.test(l));
  assert.ok(warning, logged.join('\n'));
  assert.match(warning, /^host: warning: the trainer skipped a line of 18\d{6} characters .*\{"type":"eval"/);
  // A huge stderr line is kept by its start only.
  assert.deepEqual(m.stderrTail(r.id), [`${'E'.repeat(200)}… (a line of 1000000 characters, cut)`]);
  m.dispose();
});

test('in Restricted Mode start refuses with a clear error and starts no process', () => {
  let trusted = false;
  const m = new RunManager({
    trainerPath: trainer,
    maxParallel: () => 1,
    stopGraceMs: () => 2000,
    isTrusted: () => trusted,
  });
  const config = path.join(dir, 'big.finetune.yaml');
  assert.throws(
    () => m.start(config),
    (e: unknown) =>
      e instanceof FineTuneError &&
      e.code === 'workspace-untrusted' &&
      e.file === config &&
      /Manage Workspace Trust/.test(e.fix ?? ''),
  );
  assert.deepEqual(m.listRuns(), []);
  trusted = true;
  const r = m.start(config);
  assert.notEqual(r.status, 'queued', 'a trusted workspace starts the run');
  m.dispose();
});
