import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseMetricsLines } from '../../common/runFolder/metricsLog';
import type { TrainerMessage } from '../../common/protocol';
import { crc32c, maskedCrc32c } from '../../trainer/tensorboard/crc32c';
import { EventFileWriter, eventFileName } from '../../trainer/tensorboard/eventFile';
import { makeWorkspace, withOverrides, writeConfig } from './engineFixtures';
import { runEngine } from './engineRunner';
import { crc32cBitwise, readEvents, readRecords } from './tensorboardReader';
import type { DecodedEvent } from './tensorboardReader';

const eventFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.startsWith('events.out.tfevents.'))
    .sort()
    .map((f) => path.join(dir, f));

const metricsOf = (dir: string): TrainerMessage[] =>
  parseMetricsLines(readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')).messages;

/** tag → step → value, over the scalar events of some files in order (a later value at a step wins). */
function scalarTable(events: DecodedEvent[]): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const e of events) {
    for (const v of e.values) {
      const byStep = out.get(v.tag) ?? new Map<number, number>();
      byStep.set(e.step, v.value);
      out.set(v.tag, byStep);
    }
  }
  return out;
}

/** What HF's TensorBoardCallback would plot for the run's metrics.jsonl, as float32. */
function expectedTable(messages: TrainerMessage[]): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  const put = (tag: string, step: number, v: number) => {
    const byStep = out.get(tag) ?? new Map<number, number>();
    byStep.set(step, Math.fround(v));
    out.set(tag, byStep);
  };
  for (const m of messages) {
    if (m.type === 'step') {
      if (m.loss !== null) put('train/loss', m.step, m.loss);
      if (m.gradNorm !== null) put('train/grad_norm', m.step, m.gradNorm);
      put('train/learning_rate', m.step, m.learningRate);
      put('train/epoch', m.step, m.epoch);
    } else if (m.type === 'eval') {
      for (const [k, v] of Object.entries(m.metrics)) put(`${m.split === 'test' ? 'test' : 'eval'}/${k}`, m.step, v);
      put('train/epoch', m.step, m.epoch);
    }
  }
  return out;
}

test('CRC-32C matches the check value of the specification and the independent bitwise form', () => {
  const digits = new TextEncoder().encode('123456789');
  assert.equal(crc32c(digits), 0xe3069283);
  assert.equal(crc32cBitwise(digits), 0xe3069283);
  const random = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919 + 13) & 0xff);
  assert.equal(crc32c(random), crc32cBitwise(random));
  const c = crc32c(random);
  assert.equal(maskedCrc32c(random), ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) % 2 ** 32);
});

test('the event file is named as TensorFlow names them and starts with brain.Event:2', () => {
  const now = new Date(1_700_000_000_500);
  assert.equal(eventFileName(now, 'box', 42), 'events.out.tfevents.1700000000.box.42.0');
  assert.equal(eventFileName(now, 'a/b c', 7), 'events.out.tfevents.1700000000.a_b_c.7.0');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-tb-'));
  const w = new EventFileWriter(dir, { now });
  w.scalars(3, [{ tag: 'train/loss', value: 0.5 }]);
  w.scalars(-1, [{ tag: 'x', value: -2.25 }]);
  const events = readEvents(w.file);
  assert.equal(events[0]!.fileVersion, 'brain.Event:2');
  assert.equal(events[0]!.wallTime, 1_700_000_000.5);
  assert.deepEqual(events[1]!.values, [{ tag: 'train/loss', value: 0.5 }]);
  assert.equal(events[1]!.step, 3);
  assert.equal(events[2]!.step, -1);
  // A second writer of the same name (same second, same pid) must not append to another's file.
  assert.throws(() => new EventFileWriter(dir, { now }), /EEXIST/);
});

test('report_to: tensorboard writes the run scalars under HF tags, equal to metrics.jsonl, readable by an independent reader', async () => {
  const ws = makeWorkspace({
    data: { test_file: 'validation.csv' },
    training: { max_steps: 6, eval_strategy: 'steps', eval_steps: 3, report_to: 'tensorboard' },
  });
  const run = await runEngine(ws.configFile);
  assert.equal(run.done.status, 'completed');
  const files = eventFiles(run.runDir);
  assert.equal(files.length, 1);
  assert.match(path.basename(files[0]!), new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\..+\\.${process.pid}\\.0$`));
  const events = readEvents(files[0]!);
  assert.equal(events[0]!.fileVersion, 'brain.Event:2');
  const table = scalarTable(events);
  const expected = expectedTable(metricsOf(run.runDir));
  assert.deepEqual(table, expected);
  for (const tag of ['train/loss', 'train/learning_rate', 'train/grad_norm', 'train/epoch', 'eval/loss']) {
    assert.ok(table.has(tag), `missing ${tag}`);
  }
  assert.ok(table.has('eval/accuracy') && table.has('eval/f1') && table.has('test/accuracy'));
  assert.deepEqual([...table.get('train/loss')!.keys()], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...table.get('eval/loss')!.keys()], [3, 6]);
  // Each event's wall time is a real clock reading, in seconds.
  for (const e of events) assert.ok(Math.abs(e.wallTime! - Date.now() / 1000) < 600);
});

test('a resumed run adds a second event file that purges what the first logged past the checkpoint', async () => {
  const training = { max_steps: 6, save_strategy: 'no', report_to: ['tensorboard'] };
  const ws = makeWorkspace({ training });
  const control = { stop: false, saveNow: false, cancel: false };
  const first = await runEngine(ws.configFile, {
    control,
    onStepEnd: (s) => {
      if (s === 3) control.stop = true;
    },
  });
  assert.equal(first.done.status, 'stopped');
  const resumedFile = path.join(ws.dir, 'resumed.finetune.yaml');
  writeConfig(
    resumedFile,
    withOverrides({ training: { ...training, resume_from_checkpoint: first.done.lastCheckpoint } }),
  );
  // A new file needs a new name: the name holds the second, and both sessions run in this process.
  await new Promise((r) => setTimeout(r, 1100));
  const resumed = await runEngine(resumedFile);
  assert.equal(resumed.runDir, first.runDir, 'the resume continues in its own run folder');
  const files = eventFiles(first.runDir);
  assert.equal(files.length, 2);
  const second = readEvents(files[1]!);
  assert.equal(second[0]!.fileVersion, 'brain.Event:2');
  assert.deepEqual({ step: second[1]!.step, status: second[1]!.sessionStatus }, { step: 4, status: 1 });
  const both = scalarTable([...readEvents(files[0]!), ...second]);
  assert.deepEqual([...both.get('train/loss')!.keys()], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(both, expectedTable(metricsOf(first.runDir)));
});

test('without report_to there is no event file', async () => {
  const ws = makeWorkspace({ training: { max_steps: 2 } });
  const run = await runEngine(ws.configFile);
  assert.deepEqual(eventFiles(run.runDir), []);
});

test('TensorBoard itself reads the file', async (t) => {
  const py = '/usr/bin/python3';
  try {
    execFileSync(py, ['-c', 'import tensorboard.backend.event_processing.event_accumulator'], { stdio: 'ignore' });
  } catch {
    t.skip('TensorBoard is not installed for /usr/bin/python3 (pip has no internet on this machine)');
    return;
  }
  const ws = makeWorkspace({ training: { max_steps: 3, report_to: 'tensorboard' } });
  const run = await runEngine(ws.configFile);
  const script =
    'import sys, json\n' +
    'from tensorboard.backend.event_processing import event_accumulator as ea\n' +
    'a = ea.EventAccumulator(sys.argv[1]); a.Reload()\n' +
    'print(json.dumps({t: [[s.step, s.value] for s in a.Scalars(t)] for t in a.Tags()["scalars"]}))\n';
  const out = JSON.parse(execFileSync(py, ['-c', script, run.runDir], { encoding: 'utf8' })) as Record<
    string,
    [number, number][]
  >;
  const expected = expectedTable(metricsOf(run.runDir));
  for (const [tag, byStep] of expected) assert.deepEqual(out[tag], [...byStep.entries()], tag);
});

test('records are framed as TFRecord: a flipped byte is caught by the reader', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-tb-'));
  const w = new EventFileWriter(dir);
  w.scalars(1, [{ tag: 'train/loss', value: 1 }]);
  assert.equal(readRecords(w.file).length, 2);
  const bytes = readFileSync(w.file);
  bytes[bytes.length - 6] = bytes[bytes.length - 6]! ^ 0xff;
  writeFileSync(w.file, bytes);
  assert.throws(() => readRecords(w.file), /bad data CRC/);
});
