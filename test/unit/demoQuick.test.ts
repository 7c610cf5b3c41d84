/**
 * End to end: the shortened demo (`npm run demo -- --quick`: one seed, a few steps, smaller eval sets) through
 * the real engine CLI, checking that the report comes out with sane numbers. Skips, saying why, while the
 * engine's CLI or the pre-trained checkpoint is not there.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { readManifest } from '../../scripts/demo/report';
import { summariseMetrics } from '../../scripts/demo/runMetrics';

const root = path.resolve(import.meta.dirname, '..', '..');
const cli = path.join(root, 'trainer', 'cli.ts');
const pretrained = path.join(root, 'examples', 'pretrained', 'model.safetensors');
const skip = !existsSync(cli)
  ? 'trainer/cli.ts does not exist yet (training engine issue)'
  : !existsSync(pretrained)
    ? 'examples/pretrained/model.safetensors is missing: run `npm run pretrain`'
    : false;

test(
  'the quick demo trains all three variants and a 2-point curve, and writes a report with sane numbers',
  { skip, timeout: 10 * 60_000 },
  async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'demo-quick-'));
    try {
      const args = [
        '--import',
        'tsx',
        path.join(root, 'scripts', 'demo', 'runDemo.ts'),
        '--quick',
        '--quick-steps',
        '8',
        '--out',
        out,
      ];
      const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, CI: '1' } });
        let output = '';
        child.stdout.on('data', (c: Buffer) => (output += c.toString()));
        child.stderr.on('data', (c: Buffer) => (output += c.toString()));
        child.on('close', (c) => resolve({ code: c, output }));
      });
      assert.equal(code, 0, output.slice(-3000));
      assert.match(output, /\[#{24}\]\s+8\/8/, 'a finished progress bar in the log');

      const manifest = await readManifest(out);
      const main = manifest.runs.filter((r) => r.trainExamples === undefined);
      assert.deepEqual(main.map((r) => r.variant).sort(), ['finetune', 'finetune-frozen', 'scratch']);
      const subsetRuns = manifest.runs.filter((r) => r.trainExamples !== undefined);
      assert.deepEqual(subsetRuns.map((r) => `${r.variant}@${r.trainExamples}`).sort(), ['finetune@32', 'scratch@32']);
      assert.deepEqual(manifest.curve?.sizes, [32]);
      const subset = await fs.readFile(path.join(out, 'data', 'train-32.csv'), 'utf8');
      const subsetLabels = subset
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',').at(-1));
      assert.equal(subsetLabels.length, 32);
      const trainLabels = (await fs.readFile(path.join(out, 'data', 'train.csv'), 'utf8'))
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',').at(-1));
      const positive = trainLabels.filter((l) => l === 'positive').length / trainLabels.length;
      const drawn = subsetLabels.filter((l) => l === 'positive').length;
      assert.ok(Math.abs(drawn - 32 * positive) <= 1, `stratified: ${drawn} of 32 positive`);
      const byVariant = new Map(main.map((r) => [r.variant, r]));
      const frozen = byVariant.get('finetune-frozen');
      const full = byVariant.get('finetune');
      assert.ok(frozen && full);
      assert.ok(
        frozen.trainableParams > 0 && frozen.trainableParams < full.trainableParams,
        'freezing leaves fewer parameters to train',
      );
      assert.equal(full.trainableParams, full.totalParams);

      for (const run of manifest.runs) {
        const s = summariseMetrics(await fs.readFile(path.join(out, run.runDir, 'metrics.jsonl'), 'utf8'));
        assert.equal(s.status, 'completed', `${run.variant}`);
        assert.equal(s.steps, 8);
        assert.ok(
          s.testAccuracy !== null && s.testAccuracy >= 0 && s.testAccuracy <= 1,
          `${run.variant} test accuracy ${s.testAccuracy}`,
        );
        assert.ok(s.testF1 !== null && s.testF1 >= 0 && s.testF1 <= 1);
        assert.ok(s.samplesPerSecond !== null && s.samplesPerSecond > 0);
        assert.ok(s.trainLoss.every((p) => Number.isFinite(p.value) && p.value > 0));
        assert.ok(s.validationAccuracy.length >= 2, 'validation curve for the chart');
        assert.ok(run.cpuSeconds !== undefined && run.cpuSeconds > 0, 'CPU time of the run');
      }
      const report = await fs.readFile(path.join(out, 'report.md'), 'utf8');
      for (const v of ['scratch', 'finetune', 'finetune-frozen'])
        assert.match(report, new RegExp(`^\\| ${v} \\| \\d+\\.\\d ± \\d+\\.\\d \\|`, 'm'));
      const svg = await fs.readFile(path.join(out, 'learning-curves.svg'), 'utf8');
      assert.equal((svg.match(/<path /g) ?? []).length, 6, 'the learning curves are of the main runs');
      assert.match(report, /^## Sample efficiency/m);
      const trainRows = manifest.curve?.trainRows.toLocaleString('en-US');
      for (const size of ['32', trainRows])
        assert.match(
          report,
          new RegExp(`^\\| ${size} \\| \\d+\\.\\d ± \\d+\\.\\d \\(1\\) \\| \\d+\\.\\d ± \\d+\\.\\d \\(1\\) \\|`, 'm'),
        );
      assert.match(report, /(Fine-tuning helps at|Fine-tuning is clearly ahead at no size)/);
      const curveSvg = await fs.readFile(path.join(out, 'sample-efficiency.svg'), 'utf8');
      assert.equal((curveSvg.match(/<circle /g) ?? []).length, 4, 'two arms, two sizes');
      assert.equal((curveSvg.match(/class="error-bar"/g) ?? []).length, 4);
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
  },
);
