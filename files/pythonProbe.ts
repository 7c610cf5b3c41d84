/**
 * The Python the PyTorch engine runs on (read by the trainer before a run and by "Check training environment"): `FINETUNE_PYTHON` (the extension sets it from the `finetune.python`
 * setting or the Python extension's interpreter), else `python3` (`python` on Windows), probed once for torch,
 * its version, CUDA and `transformers`, so that a missing piece is a clear message before any run folder exists.
 */
import { execFile } from 'node:child_process';
import { FineTuneError } from '../common/errors';
import { bool, count, nullable, obj, str } from '../common/guard';
import type { Infer } from '../common/guard';

export const PYTHON_ENV = 'FINETUNE_PYTHON';
export const MIN_TORCH = [1, 13] as const;

const probeGuard = obj({
  python: str,
  torch: str,
  cuda: bool,
  devices: count,
  deviceName: nullable(str),
  bf16: bool,
  transformers: nullable(str),
});
export type PythonProbe = Infer<typeof probeGuard> & { executable: string };

// Prints one JSON line; an ImportError of torch is told apart from a Python that does not run at all.
const PROBE = `
import json, sys
try:
    import torch
except ImportError as e:
    print(json.dumps({"missing": "torch", "python": sys.version.split()[0], "why": str(e)})); sys.exit(0)
try:
    import transformers; tv = transformers.__version__
except Exception:
    tv = None
cuda = torch.cuda.is_available()
print(json.dumps({"python": sys.version.split()[0], "torch": torch.__version__, "cuda": cuda,
  "devices": torch.cuda.device_count() if cuda else 0,
  "deviceName": torch.cuda.get_device_name(0) if cuda else None,
  "bf16": bool(cuda and torch.cuda.is_bf16_supported()) or not cuda, "transformers": tv}))
`;

export function pythonExecutable(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env[PYTHON_ENV]?.trim();
  if (chosen) return chosen;
  return process.platform === 'win32' ? 'python' : 'python3';
}

const SETUP_FIX =
  'Install PyTorch in a Python environment (pip install torch) and choose it with the `finetune.python` setting, ' +
  `or the ${PYTHON_ENV} environment variable for the CLI.`;

/** Runs the probe; every way it can fail is a FineTuneError that says what to install or set. */
export async function probePython(env: NodeJS.ProcessEnv = process.env): Promise<PythonProbe> {
  const executable = pythonExecutable(env);
  const out = await run(executable, ['-c', PROBE], env).catch((e: NodeJS.ErrnoException) => {
    const why = e.code === 'ENOENT' ? `there is no Python at \`${executable}\`` : `\`${executable}\` failed`;
    throw new FineTuneError('python-missing', `the PyTorch engine needs Python: ${why}`, {
      detail: e.message,
      fix: SETUP_FIX,
    });
  });
  const value = parseProbe(out, executable);
  const have = value.torch.split('+')[0]!.split('.').map(Number);
  const tooOld = have[0]! < MIN_TORCH[0] || (have[0] === MIN_TORCH[0] && have[1]! < MIN_TORCH[1]);
  if (tooOld) {
    throw new FineTuneError(
      'torch-too-old',
      `${executable} has torch ${value.torch}; the engine needs ${MIN_TORCH.join('.')}+`,
      {
        fix: 'Upgrade it: pip install -U torch.',
      },
    );
  }
  return { ...value, executable };
}

function parseProbe(out: string, executable: string): Infer<typeof probeGuard> {
  let value: unknown;
  try {
    value = JSON.parse(out.trim().split('\n').pop() ?? '');
  } catch {
    throw new FineTuneError('python-missing', `\`${executable}\` did not answer as Python 3 does`, {
      detail: out.slice(0, 500),
      fix: SETUP_FIX,
    });
  }
  const missing = (value as { missing?: unknown }).missing;
  if (missing === 'torch') {
    throw new FineTuneError('torch-missing', `PyTorch is not installed in \`${executable}\``, {
      detail: String((value as { why?: unknown }).why ?? ''),
      fix: SETUP_FIX,
    });
  }
  const problem = probeGuard.check(value);
  if (problem)
    throw new FineTuneError('python-missing', `unexpected answer from \`${executable}\`: ${problem}`, {
      fix: SETUP_FIX,
    });
  return value as Infer<typeof probeGuard>;
}

function run(executable: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(executable, args, { env, timeout: 120_000, maxBuffer: 1024 * 1024 }, (e, stdout) =>
      e ? reject(e) : resolve(stdout),
    );
  });
}
