/**
 * `npm run bench -- --engines tfjs,pytorch` (bench/loop.ts): both engines' real training loops, through the
 * trainer subprocess and (engine: pytorch) its Python worker, at tiny settings. The rows must be well-formed and
 * their numbers must come from the run: the timed steps counted, metrics.jsonl holding every step, and the rate
 * recomputed from the run folder's own step records. The PyTorch half needs torch in /usr/bin/python3 (Debian's
 * python3-torch) and is skipped, saying so, without it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readMetricsLog } from '../../common/runFolder/metricsLog';
import { runLoopCases } from '../../bench/loop';
import type { LoopOptions } from '../../bench/loop';
import type { LoopRow } from '../../bench/rows';

const PYTHON = '/usr/bin/python3';
const torchWhy = (() => {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `torch is not importable in ${PYTHON} (apt-get install python3-torch)`;
})();

const workdir = mkdtempSync(path.join(os.tmpdir(), 'ft-bench-loop-test-'));
after(() => rmSync(workdir, { recursive: true, force: true }));

const printed: string[] = [];
const TINY: LoopOptions = {
  engines: torchWhy ? ['tfjs'] : ['tfjs', 'pytorch'],
  backends: ['wasm'],
  models: ['tiny'],
  batch: 4,
  seq: 32,
  warmup: 1,
  steps: 2,
  seed: 7,
  threads: 1,
  python: PYTHON,
  dist: false,
  workdir,
  only: [],
  cpuMini: false,
  timeoutMs: 240_000,
  print: (line) => printed.push(line),
};

// One run of the bench for both tests: each engine trains once.
let rows: Promise<LoopRow[]> | undefined;
const bothEngines = () => (rows ??= runLoopCases(TINY));

function rowOf(all: LoopRow[], engine: LoopRow['engine']): LoopRow {
  const row = all.find((r) => r.engine === engine);
  assert.ok(row, `a ${engine} row in ${JSON.stringify(all)}`);
  return row;
}

/** The checks both engines' rows pass: shape, and numbers that the run folder itself bears out. */
async function assertMeasuredRun(row: LoopRow): Promise<void> {
  assert.equal(row.note, undefined, `no note: ${row.note}`);
  assert.equal(row.kind, 'loop');
  assert.equal(row.mode, 'train');
  assert.deepEqual([row.batch, row.seq, row.warmup, row.steps, row.threads], [4, 32, 1, 2, 1]);
  assert.ok(row.samples_per_s !== null && row.samples_per_s > 0, `samples/s ${row.samples_per_s}`);
  // Every generated example is cut to exactly `seq` tokens, so tokens/s is 32 × samples/s.
  assert.ok(
    Math.abs(row.tokens_per_s! - 32 * row.samples_per_s) < 1e-6 * row.tokens_per_s!,
    `tokens/s ${row.tokens_per_s}`,
  );
  assert.ok(row.step_ms_median! > 0);
  assert.ok(
    row.first_step_ms! >= row.marks_ms.hello!,
    `first step ${row.first_step_ms} after hello ${row.marks_ms.hello}`,
  );
  assert.ok(row.marks_ms.plan! <= row.first_step_ms!);

  assert.ok(row.run_dir, 'the kept run folder');
  assert.ok(existsSync(path.join(row.run_dir, 'metrics.jsonl')), 'metrics.jsonl exists');
  assert.equal(JSON.parse(readFileSync(path.join(row.run_dir, 'run.json'), 'utf8')).status, 'completed');
  const logged = (await readMetricsLog(row.run_dir)).flatMap((m) => (m.type === 'step' ? [m] : []));
  assert.equal(row.metrics_steps, 3);
  assert.deepEqual(
    logged.map((m) => m.step),
    [1, 2, 3],
  );
  // The rate is the run's own: two batches of 4 between the end of step 1 and the end of step 3.
  const span = logged[2]!.elapsedMs - logged[0]!.elapsedMs;
  assert.ok(
    Math.abs(row.samples_per_s - 8000 / span) < 1e-9 * row.samples_per_s,
    `${row.samples_per_s} vs ${8000 / span}`,
  );

  if (process.platform === 'linux') {
    assert.ok(row.peak_rss_mb! > 0);
    assert.ok(row.samples_per_cpu_s! > 0);
    const trainer = row.processes?.find((p) => p.command.includes(path.join('trainer', 'main.ts')));
    assert.ok(trainer && trainer.peak_rss_mb > 0, `the trainer's own peak in ${JSON.stringify(row.processes)}`);
  }
}

test('the tfjs engine loop: the trainer subprocess trains the generated config and its steps are the row', async () => {
  const row = rowOf(await bothEngines(), 'tfjs');
  assert.equal(row.case, 'tiny-loop-tfjs-wasm');
  assert.equal(row.backend, 'wasm');
  await assertMeasuredRun(row);
  assert.ok(
    printed.some((l) => l.startsWith('tiny-loop-tfjs-wasm')),
    printed.join('\n'),
  );
});

test(
  "the PyTorch engine loop: the trainer's Python worker trains the same config; tfjs is compared with it",
  { skip: torchWhy },
  async () => {
    const all = await bothEngines();
    const row = rowOf(all, 'pytorch');
    assert.equal(row.case, 'tiny-loop-pytorch');
    assert.match(row.backend, /^torch \d+\.\d+\S* (cpu|cuda)/);
    await assertMeasuredRun(row);
    assert.ok(row.marks_ms.worker! > row.marks_ms.plan!, 'the worker spoke after the plan');
    if (process.platform === 'linux') {
      const worker = row.processes?.find((p) => p.command.includes('-m finetune_worker'));
      assert.ok(worker && worker.peak_rss_mb > 0, `the worker's own peak in ${JSON.stringify(row.processes)}`);
    }
    assert.equal(row.ratio_to_pytorch_engine, 1);
    const tfjs = rowOf(all, 'tfjs');
    assert.equal(tfjs.ratio_to_pytorch_engine, tfjs.samples_per_s! / row.samples_per_s!);
    // The PyTorch engine runs first, as each model's reference.
    assert.deepEqual(
      all.map((r) => r.engine),
      ['pytorch', 'tfjs'],
    );
  },
);

test('a missing Python gives the PyTorch row a note saying why, and no numbers', async () => {
  const out = await runLoopCases({ ...TINY, engines: ['pytorch'], python: path.join(workdir, 'no-such-python') });
  assert.equal(out.length, 1);
  const row = out[0]!;
  assert.equal(row.engine, 'pytorch');
  assert.match(row.note ?? '', /^not run: the PyTorch engine needs Python: there is no Python at/);
  assert.deepEqual([row.samples_per_s, row.tokens_per_s, row.peak_rss_mb, row.steps], [null, null, null, 0]);
  assert.equal(row.ratio_to_pytorch_engine, null);
});

test(
  "a Python without torch gives the PyTorch row the probe's message",
  { skip: existsSync(PYTHON) ? undefined : `${PYTHON} is absent` },
  async () => {
    // A real Python whose `import torch` fails: a module named torch that raises ImportError comes first on its path.
    const shadow = path.join(workdir, 'no-torch');
    mkdirSync(shadow, { recursive: true });
    writeFileSync(path.join(shadow, 'torch.py'), 'raise ImportError("No module named torch (shadowed by the test)")\n');
    const python = path.join(workdir, 'python-without-torch');
    writeFileSync(python, `#!/bin/sh\nPYTHONPATH=${JSON.stringify(shadow)} exec ${PYTHON} "$@"\n`, { mode: 0o755 });
    const out = await runLoopCases({ ...TINY, engines: ['pytorch'], python });
    assert.equal(out.length, 1);
    assert.match(
      out[0]!.note ?? '',
      /^not run: PyTorch is not installed in `.*python-without-torch` \(Install PyTorch/,
    );
    assert.equal(out[0]!.samples_per_s, null);
  },
);
