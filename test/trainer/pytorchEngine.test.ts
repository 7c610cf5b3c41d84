/**
 * engine: pytorch (trainer/pytorch/, python/finetune_worker/) against the TypeScript engine: the same loss curve
 * and weights over 20 steps from the same start; 2 Gloo processes under torchrun against 1 process with the same
 * global batch, checkpoints written once, and resume; checkpoints crossing engines; every worker line checked
 * against the protocol; and clear errors for a missing Python, a missing torch, and fp16 on a CPU.
 * Needs `torch` in /usr/bin/python3 (Debian's python3-torch, as CI installs it); skipped, saying so, without it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWorkerMessage } from '../../common/engineJob';
import { FineTuneError } from '../../common/errors';
import { readSafetensors } from '../../files/hf/safetensors';
import { workerRoot } from '../../trainer/pytorch/python';
import { makeWorkspace, withOverrides, writeConfig } from './engineFixtures';
import { runEngine } from './engineRunner';
import type { EngineRun } from './engineRunner';

const PYTHON = '/usr/bin/python3';
const torchWhy = (() => {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `torch is not importable in ${PYTHON} (apt-get install python3-torch)`;
})();
if (!torchWhy) process.env.FINETUNE_PYTHON = PYTHON;
// The built-in BERT, whatever else the Python has: the comparison is with the TypeScript engine's BERT.
process.env.FINETUNE_PYTORCH_BUILTIN = '1';

const STEPS = 20;
const common = {
  model: { architecture: { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 } },
  training: {
    max_steps: STEPS,
    logging_steps: 1,
    eval_strategy: 'steps',
    eval_steps: 10,
    save_strategy: 'steps',
    save_steps: 10,
    warmup_ratio: 0.2,
    lr_scheduler_type: 'linear',
    weight_decay: 0.01,
    gradient_accumulation_steps: 2,
  },
};

function workspace(engine: 'tfjs' | 'pytorch', extra: Record<string, unknown> = {}) {
  return makeWorkspace({ engine, ...common, ...extra }, { trainRows: 60, validationRows: 12 });
}

const losses = (r: EngineRun) => r.of('step').map((m) => m.loss);
const evalLosses = (r: EngineRun) => r.of('eval').map((m) => m.metrics.loss ?? null);

function assertClose(a: readonly (number | null)[], b: readonly (number | null)[], rel: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: ${a.length} values against ${b.length}`);
  a.forEach((x, i) => {
    const y = b[i]!;
    assert.ok(x !== null && y !== null, `${what}[${i}] is finite`);
    assert.ok(Math.abs(x - y) <= rel * Math.abs(y), `${what}[${i}]: ${x} against ${y} (relative tolerance ${rel})`);
  });
}

async function assertSameWeights(dirA: string, dirB: string, tol: number): Promise<void> {
  const a = await readSafetensors(path.join(dirA, 'model.safetensors'));
  const b = await readSafetensors(path.join(dirB, 'model.safetensors'));
  assert.deepEqual([...a.tensors.keys()].sort(), [...b.tensors.keys()].sort(), 'the same parameter names');
  for (const [name, t] of a.tensors) {
    const u = b.tensors.get(name)!;
    assert.deepEqual(t.shape, u.shape, name);
    let worst = 0;
    for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(Number(t.data[i]) - Number(u.data[i])));
    assert.ok(worst <= tol, `${name}: weights differ by ${worst}`);
  }
}

test(
  "the PyTorch engine gives the TypeScript engine's loss curve and weights over 20 steps",
  { skip: torchWhy, timeout: 300_000 },
  async () => {
    const ts = await runEngine(workspace('tfjs').configFile);
    const pt = await runEngine(workspace('pytorch').configFile);
    assert.equal(pt.done.status, 'completed');
    assert.equal(losses(pt).length, STEPS);
    assertClose(losses(pt), losses(ts), 1e-4, 'step loss');
    assertClose(evalLosses(pt), evalLosses(ts), 1e-4, 'eval loss');
    assert.deepEqual(
      pt.of('eval').map((m) => m.metrics.accuracy),
      ts.of('eval').map((m) => m.metrics.accuracy),
    );
    await assertSameWeights(
      path.join(pt.runDir, `checkpoint-${STEPS}`),
      path.join(ts.runDir, `checkpoint-${STEPS}`),
      1e-4,
    );
    // The run folder reads as any other: run.json, metrics.jsonl, and checkpoints with trainer_state.json.
    const info = JSON.parse(readFileSync(path.join(pt.runDir, 'run.json'), 'utf8'));
    assert.equal(info.status, 'completed');
    assert.match(info.backend.reason, /engine: pytorch: torch/);
    const state = JSON.parse(readFileSync(path.join(pt.runDir, `checkpoint-${STEPS}`, 'trainer_state.json'), 'utf8'));
    assert.equal(state.global_step, STEPS);
    // One model card renderer for both engines: the same card but for who wrote it and the last digits.
    const card = (r: EngineRun) => readFileSync(path.join(r.runDir, `checkpoint-${STEPS}`, 'README.md'), 'utf8');
    const hyper = (t: string) => t.slice(t.indexOf('## Training hyperparameters'), t.indexOf('## Framework'));
    assert.match(card(pt), /trained from scratch/);
    assert.match(card(pt), /\(engine: pytorch\)/);
    assert.match(card(pt), /- loss: \d/);
    assert.equal(hyper(card(pt)), hyper(card(ts)));
  },
);

test(
  '2 Gloo processes under torchrun follow 1 process with the same global batch, save once and resume',
  { skip: torchWhy, timeout: 400_000 },
  async () => {
    const one = await runEngine(
      workspace('pytorch', { training: { ...common.training, per_device_train_batch_size: 8 } }).configFile,
    );
    const twoWs = workspace('pytorch', {
      distributed: { nproc_per_node: 2, master_port: 29400 + (process.pid % 500) },
      training: { ...common.training, per_device_train_batch_size: 4 },
    });
    const two = await runEngine(twoWs.configFile);
    assertClose(losses(two), losses(one), 1e-4, 'step loss');
    assertClose(evalLosses(two), evalLosses(one), 1e-4, 'eval loss');
    // Rank 0 alone writes: one checkpoint message per save, and no leftovers of a second writer.
    assert.deepEqual(
      two.of('checkpoint').map((m) => m.step),
      [10, 20],
    );
    assert.deepEqual(
      readdirSync(two.runDir)
        .filter((n) => n.includes('checkpoint'))
        .sort(),
      ['checkpoint-10', 'checkpoint-20'],
    );
    const resumed = await runEngine(twoWs.configFile, { resumeFrom: path.join(two.runDir, 'checkpoint-10') });
    assertClose(losses(resumed), losses(two).slice(10), 1e-4, 'resumed step loss');
    await assertSameWeights(
      path.join(resumed.runDir, `checkpoint-${STEPS}`),
      path.join(one.runDir, `checkpoint-${STEPS}`),
      1e-4,
    );
  },
);

test(
  'a PyTorch checkpoint resumes on the TypeScript engine, and fine-tunes the other way round',
  { skip: torchWhy, timeout: 300_000 },
  async () => {
    const pt = await runEngine(workspace('pytorch').configFile);
    const ts = await runEngine(workspace('tfjs').configFile, { resumeFrom: path.join(pt.runDir, 'checkpoint-10') });
    assertClose(losses(ts), losses(pt).slice(10), 1e-4, 'step loss resumed on the other engine');
    const fine = workspace('pytorch', {
      mode: 'fine-tune',
      model: { name_or_path: path.join(ts.runDir, 'checkpoint-20'), architecture: undefined },
    });
    const ft = await runEngine(fine.configFile, { maxSteps: 4 });
    assert.equal(ft.done.status, 'completed');
    assert.deepEqual(
      ft.of('model')[0]!.newlyInitialized,
      [],
      'every weight, the head included, came from the checkpoint',
    );
  },
);

test('every line the worker prints is a message of the protocol', { skip: torchWhy, timeout: 200_000 }, async () => {
  const ws = workspace('pytorch');
  const run = await runEngine(ws.configFile, { maxSteps: 4 });
  // The job the bridge wrote, replayed without evaluations (they need the bridge's answers): all stdout is checked.
  const job = JSON.parse(readFileSync(path.join(run.runDir, '.engine', 'job.json'), 'utf8'));
  job.data.validation = [];
  job.data.test = [];
  job.runDir = path.join(ws.dir, 'replay');
  mkdirSync(job.runDir);
  const jobFile = path.join(ws.dir, 'replay.json');
  writeFileSync(jobFile, JSON.stringify(job));
  const out = await runWorker(jobFile);
  const lines = out.trim().split('\n');
  assert.ok(lines.length >= 6, `the worker printed ${lines.length} lines:\n${out}`);
  for (const line of lines) {
    const r = parseWorkerMessage(line);
    assert.ok(r.ok, `${line.slice(0, 120)}: ${r.ok ? '' : r.error}`);
  }
  assert.match(lines[lines.length - 1]!, /"type":"done"/);
});

test(
  'a missing Python, a Python without torch and fp16 on a CPU are clear errors',
  { skip: torchWhy, timeout: 200_000 },
  async () => {
    const ws = workspace('pytorch');
    const refused = async (env: string, code: string, message: RegExp) => {
      process.env.FINETUNE_PYTHON = env;
      try {
        await assert.rejects(runEngine(ws.configFile), (e: unknown) => {
          assert.ok(e instanceof FineTuneError, String(e));
          assert.equal(e.code, code);
          assert.match(e.message, message);
          assert.match(e.fix ?? '', /finetune\.python|pip install/);
          return true;
        });
      } finally {
        process.env.FINETUNE_PYTHON = PYTHON;
      }
    };
    await refused('/nonexistent/python3', 'python-missing', /no Python at `\/nonexistent\/python3`/);
    const bare = bareEnvPython();
    if (bare) await refused(bare, 'torch-missing', /PyTorch is not installed/);
    writeConfig(ws.configFile, withOverrides({ engine: 'pytorch', training: { max_steps: 2, fp16: true } }));
    await assert.rejects(runEngine(ws.configFile), /fp16 needs a CUDA GPU/);
  },
);

/** Runs the worker on a job; stdin stays open (its end means the host is gone, and the run is cancelled). */
function runWorker(jobFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-m', 'finetune_worker', jobFile], {
      env: { ...process.env, PYTHONPATH: workerRoot() },
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`worker exit ${code}: ${out}`))));
  });
}

/** A Python 3 without torch: pyenv's, where the machine has one (CI's has none: that case is then not run). */
function bareEnvPython(): string | undefined {
  for (const p of ['/root/.pyenv/shims/python3', '/usr/local/bin/python3']) {
    if (existsSync(p) && spawnSync(p, ['-c', 'import torch']).status !== 0) return p;
  }
  return undefined;
}
