/**
 * The Python the PyTorch engine's loop cases run on, found and checked as the trainer checks it
 * (files/pythonProbe.ts), so that a missing Python or torch becomes the row's note with the trainer's own words.
 */
import { spawnSync } from 'node:child_process';
import { FineTuneError } from '../common/errors';
import { PYTHON_ENV, probePython, pythonExecutable } from '../files/pythonProbe';
import type { PythonProbe } from '../files/pythonProbe';

export type EnginePython = { ok: true; probe: PythonProbe; threads: number | null } | { ok: false; why: string };

/**
 * `explicit` (--python or BENCH_PYTHON) alone when given; else FINETUNE_PYTHON, Debian's /usr/bin/python3 (which
 * a pyenv shim earlier on PATH would hide) and the trainer's default, the first that has torch.
 */
export async function findEnginePython(explicit: string | undefined, threads: number): Promise<EnginePython> {
  const candidates = explicit
    ? [explicit]
    : [...new Set([process.env[PYTHON_ENV], '/usr/bin/python3', pythonExecutable({})].filter((p): p is string => !!p))];
  let first: string | undefined;
  for (const python of candidates) {
    try {
      const probe = await probePython({ ...process.env, [PYTHON_ENV]: python });
      return { ok: true, probe, threads: torchThreads(python, threads) };
    } catch (e) {
      first ??= e instanceof FineTuneError ? `${e.message}${e.fix ? ` (${e.fix})` : ''}` : String(e);
    }
  }
  return { ok: false, why: first ?? 'no Python to try' };
}

/** The intra-op threads torch takes with the loop's OMP_NUM_THREADS (it reads the variable on import). */
function torchThreads(python: string, threads: number): number | null {
  const env = { ...process.env, OMP_NUM_THREADS: String(threads) };
  const r = spawnSync(python, ['-c', 'import torch; print(torch.get_num_threads())'], { env, encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return r.status === 0 && Number.isInteger(n) ? n : null;
}

/** `torch 1.13.1 cpu, built-in BERT`: what the row's backend column says of the engine. */
export function torchLabel(p: PythonProbe): string {
  const device = p.cuda ? `cuda (${p.deviceName ?? 'GPU'})` : 'cpu';
  // python/finetune_worker/model.py: transformers' model when importable, unless this variable asks otherwise.
  const hf = p.transformers && !process.env.FINETUNE_PYTORCH_BUILTIN;
  return `torch ${p.torch} ${device}, ${hf ? `transformers ${p.transformers}` : 'built-in BERT'}`;
}
