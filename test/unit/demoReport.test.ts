import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { assertWellFormedSvg } from './svgCheck';
import { learningCurvesSvg } from '../../scripts/demo/chart';
import { bar, progressLine } from '../../scripts/demo/progress';
import { buildReport, type DemoManifest } from '../../scripts/demo/report';
import { meanStd, summariseMetrics } from '../../scripts/demo/runMetrics';
import { seedConfig } from '../../scripts/demo/demoConfig';
import { parseArgs } from '../../scripts/demo/options';

interface Fake {
  valAcc: number[];
  testAcc: number;
  testF1: number;
  elapsedMs: number;
  sps: number[];
}

/** A metrics.jsonl as the engine writes it: steps every 5, validation every 10, test and done at the end. */
function metricsFile(f: Fake): string {
  const lines: unknown[] = [];
  f.sps.forEach((s, i) =>
    lines.push({
      type: 'step',
      step: (i + 1) * 5,
      epoch: 0,
      loss: 0.7 - i * 0.05,
      learningRate: 1e-4,
      gradNorm: 1,
      samplesPerSecond: s,
      tokensPerSecond: s * 20,
      elapsedMs: i * 100,
      etaMs: null,
    }),
  );
  f.valAcc.forEach((a, i) =>
    lines.push({
      type: 'eval',
      step: (i + 1) * 10,
      epoch: 0,
      split: 'validation',
      metrics: { loss: 0.5, accuracy: a, f1: a },
      isBest: false,
    }),
  );
  lines.push({
    type: 'eval',
    step: 40,
    epoch: 1,
    split: 'test',
    metrics: { loss: 0.4, accuracy: f.testAcc, f1: f.testF1 },
    isBest: false,
  });
  lines.push({ type: 'done', status: 'completed', step: 40, elapsedMs: f.elapsedMs });
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

const fakes: Record<string, Fake[]> = {
  scratch: [
    { valAcc: [0.5, 0.6, 0.62, 0.61], testAcc: 0.6, testF1: 0.58, elapsedMs: 10000, sps: [40, 44] },
    { valAcc: [0.55, 0.65, 0.64, 0.6], testAcc: 0.64, testF1: 0.63, elapsedMs: 12000, sps: [50, 50] },
  ],
  finetune: [
    { valAcc: [0.7, 0.8, 0.85, 0.85], testAcc: 0.82, testF1: 0.81, elapsedMs: 11000, sps: [30, 34] },
    { valAcc: [0.75, 0.86, 0.84, 0.83], testAcc: 0.84, testF1: 0.84, elapsedMs: 13000, sps: [36, 36] },
  ],
};

async function writeFakeDemo(dir: string): Promise<DemoManifest> {
  const manifest: DemoManifest = {
    formatVersion: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    quick: false,
    maxSteps: 40,
    batchSize: 16,
    variants: { scratch: 'random init', finetune: 'from pretrained' },
    runs: [],
  };
  for (const [variant, runs] of Object.entries(fakes)) {
    for (const [i, f] of runs.entries()) {
      const runDir = path.join('runs', `${variant}-seed${i + 1}`, 'run-x');
      await fs.mkdir(path.join(dir, runDir), { recursive: true });
      await fs.writeFile(path.join(dir, runDir, 'metrics.jsonl'), metricsFile(f));
      manifest.runs.push({
        variant,
        seed: i + 1,
        runDir,
        trainableParams: variant === 'scratch' ? 1000 : 1000,
        totalParams: 1000,
      });
    }
  }
  await fs.writeFile(path.join(dir, 'runs.json'), JSON.stringify(manifest));
  return manifest;
}

test('summariseMetrics reads test scores, the step of the best validation accuracy and the curves, skipping bad lines', () => {
  const text =
    metricsFile({ valAcc: [0.5, 0.7, 0.7, 0.6], testAcc: 0.66, testF1: 0.65, elapsedMs: 5000, sps: [10, 20, 30] }) +
    '{"type":"step", broken\n';
  const s = summariseMetrics(text);
  assert.equal(s.testAccuracy, 0.66);
  assert.equal(s.testF1, 0.65);
  assert.equal(s.bestValidationAccuracy, 0.7);
  assert.equal(s.stepsToBest, 20, 'the first step that reached the maximum');
  assert.equal(s.trainSeconds, 5);
  assert.equal(s.samplesPerSecond, 20);
  assert.equal(s.validationAccuracy.length, 4);
  assert.equal(s.trainLoss.length, 3);
  assert.equal(s.badLines, 1);
  assert.equal(s.status, 'completed');
});

test('meanStd is the mean and the sample standard deviation, ignoring missing values', () => {
  const m = meanStd([2, 4, 4, 4, 5, 5, 7, 9, null]);
  assert.ok(m);
  assert.equal(m.mean, 5);
  assert.ok(Math.abs(m.std - Math.sqrt(32 / 7)) < 1e-12);
  assert.equal(m.n, 8);
  assert.deepEqual(meanStd([3]), { mean: 3, std: 0, n: 1 });
  assert.equal(meanStd([null]), null);
});

test('the report table matches the metrics files it was made from', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'demo-report-'));
  try {
    await writeFakeDemo(dir);
    const built = await buildReport(dir);
    const table = built.markdown
      .split('\n')
      .filter((l) => /^\| (scratch|finetune) \|/.test(l) && l.split('|').length === 9);
    assert.equal(table.length, 2);
    for (const [variant, runs] of Object.entries(fakes)) {
      const row = table.find((l) => l.startsWith(`| ${variant} |`));
      assert.ok(row, variant);
      const cells = row.split('|').map((c) => c.trim());
      const acc = meanStd(runs.map((r) => r.testAcc));
      const f1 = meanStd(runs.map((r) => r.testF1));
      const secs = meanStd(runs.map((r) => r.elapsedMs / 1000));
      const sps = meanStd(runs.map((r) => r.sps.reduce((a, b) => a + b, 0) / r.sps.length));
      const best = meanStd(runs.map((r) => 10 * (r.valAcc.indexOf(Math.max(...r.valAcc)) + 1)));
      assert.equal(cells[2], `${(100 * acc!.mean).toFixed(1)} ± ${(100 * acc!.std).toFixed(1)}`);
      assert.equal(cells[3], `${(100 * f1!.mean).toFixed(1)} ± ${(100 * f1!.std).toFixed(1)}`);
      assert.equal(cells[4], `${secs!.mean.toFixed(1)} ± ${secs!.std.toFixed(1)}`);
      assert.equal(cells[5], `${sps!.mean.toFixed(1)} ± ${sps!.std.toFixed(1)}`);
      assert.equal(cells[7], `${best!.mean.toFixed(0)} ± ${best!.std.toFixed(0)}`);
    }
    const gain =
      100 *
      (meanStd(fakes.finetune!.map((r) => r.testAcc))!.mean - meanStd(fakes.scratch!.map((r) => r.testAcc))!.mean);
    assert.match(built.markdown, new RegExp(`finetune vs scratch: \\+${gain.toFixed(1)} points`));
    // One per-run row each, with its own test accuracy.
    assert.match(built.markdown, /\| finetune \| 2 \| all \| 84\.0 \| 84\.0 \| 86\.0 \| 20 \|/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a run without metrics gets n/a cells instead of breaking the report', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'demo-report-'));
  try {
    const manifest = await writeFakeDemo(dir);
    manifest.runs.push({ variant: 'finetune', seed: 3, runDir: 'runs/missing', trainableParams: 1, totalParams: 1 });
    await fs.writeFile(path.join(dir, 'runs.json'), JSON.stringify(manifest));
    const built = await buildReport(dir);
    assert.match(built.markdown, /\| finetune \| 3 \| all \| n\/a \| n\/a \|/);
    const finetune = built.rows.find((r) => r.variant === 'finetune');
    assert.equal(finetune?.seeds, 3);
    assert.equal(finetune?.scores[0]?.n, 2, 'the mean is over the runs that have a test score');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a demo stopped part-way reports the runs it finished and says how many were planned', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'demo-report-'));
  try {
    const manifest = await writeFakeDemo(dir);
    await fs.writeFile(path.join(dir, 'runs.json'), JSON.stringify({ ...manifest, plannedRuns: 9 }));
    const built = await buildReport(dir);
    assert.match(built.markdown, /\*\*Incomplete:\*\* 4 of the 9 planned runs finished\./);
    await fs.writeFile(path.join(dir, 'runs.json'), JSON.stringify({ ...manifest, plannedRuns: 4 }));
    assert.doesNotMatch((await buildReport(dir)).markdown, /Incomplete/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the chart SVG is well-formed, with one path per run in each panel', () => {
  const runs = [0, 1, 2].flatMap((seedIndex) =>
    ['scratch', 'fine<tune>&co'].map((variant) => ({
      label: `${variant} seed ${seedIndex}`,
      variant,
      seedIndex,
      validationAccuracy: [10, 20, 30].map((step) => ({ step, value: 0.5 + step / 100 + seedIndex / 50 })),
      trainLoss: [5, 10, 15, 20].map((step) => ({ step, value: 0.7 - step / 100 })),
    })),
  );
  const svg = learningCurvesSvg(runs);
  assertWellFormedSvg(svg);
  const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1] as string);
  assert.equal(paths.length, runs.length * 2);
  for (const d of paths) assert.match(d, /^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+$/);
  assert.equal((svg.match(/<title>fine&lt;tune&gt;&amp;co seed 1<\/title>/g) ?? []).length, 2);
});

test('per-seed configs resolve relative paths against the original folder and set seed and output folder', () => {
  const text =
    'mode: fine-tune\nmodel:\n  name_or_path: .\ndata:\n  train_file: sentiment/train.csv\ntraining:\n  max_steps: 200\n  seed: 42\n';
  const dir = path.resolve(import.meta.dirname);
  const c = seedConfig(text, dir, {
    seed: 3,
    outputDir: '/tmp/out',
    runName: 'finetune-seed3',
    quickSteps: 20,
  }) as Record<string, Record<string, unknown>>;
  assert.equal(c.model?.name_or_path, dir);
  assert.equal(c.data?.train_file, path.join(dir, 'sentiment', 'train.csv'));
  assert.equal(c.training?.seed, 3);
  assert.equal(c.training?.max_steps, 20);
  assert.equal(c.training?.eval_steps, 5);
  assert.equal((c as Record<string, unknown>).output_dir, '/tmp/out');
  const hub = seedConfig('model:\n  name_or_path: bert-base-uncased\n', dir, {
    seed: 1,
    outputDir: '/o',
    runName: 'x',
  }) as Record<string, Record<string, unknown>>;
  assert.equal(hub.model?.name_or_path, 'bert-base-uncased');
  // --max-steps: another budget, evaluation and saving as the config has them.
  const longer = seedConfig(text + '  eval_steps: 25\n', dir, {
    seed: 1,
    outputDir: '/o',
    runName: 'x',
    maxSteps: 400,
  }) as Record<string, Record<string, unknown>>;
  assert.equal(longer.training?.max_steps, 400);
  assert.equal(longer.training?.eval_steps, 25);
});

test('demo options: --max-steps is a positive integer', () => {
  assert.equal(parseArgs(['--max-steps', '400'], '/r').maxSteps, 400);
  assert.equal(parseArgs([], '/r').maxSteps, undefined);
  assert.throws(() => parseArgs(['--max-steps', '0'], '/r'), /--max-steps wants a positive integer/);
});

test('progress lines show the bar, the step and the latest numbers', () => {
  assert.equal(bar(0.5, 10), '[#####.....]');
  assert.equal(bar(2, 4), '[####]');
  const line = progressLine({
    label: 'finetune seed 1',
    step: 50,
    total: 200,
    loss: 0.4321,
    valAccuracy: 0.8123,
    state: 'training',
  });
  assert.match(line, /\[######\.{18}\]\s+50\/200 {2}loss 0\.432 {2}val acc 81\.2%/);
});
