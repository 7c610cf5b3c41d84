// The Hugging Face token stored in VS Code reaches the trainer as HF_TOKEN in its environment, never in argv; a
// token already in VS Code's environment wins over it (as HF_TOKEN wins over the stored login in huggingface_hub).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { envTokenVariable, hubTokenEnv, tokenProblem } from '../../extension/hubTokenEnv';
import { RunManager } from '../../extension/runManager';
import type { RunInfo } from '../../extension/runModel';

const SECRET = 'hf_VerySecretTokenValue123';

test('the stored token becomes HF_TOKEN unless the environment already names a token', () => {
  assert.deepEqual(hubTokenEnv(SECRET, {}), { HF_TOKEN: SECRET });
  assert.deepEqual(hubTokenEnv(SECRET, { PATH: '/bin' }), { HF_TOKEN: SECRET });
  assert.deepEqual(hubTokenEnv(SECRET, { HF_TOKEN: 'hf_fromShell' }), {});
  assert.deepEqual(hubTokenEnv(SECRET, { HUGGING_FACE_HUB_TOKEN: 'hf_old' }), {});
  // An empty variable is unset for huggingface_hub too.
  assert.deepEqual(hubTokenEnv(SECRET, { HF_TOKEN: '' }), { HF_TOKEN: SECRET });
  assert.deepEqual(hubTokenEnv(SECRET, { HF_TOKEN: '  ' }), { HF_TOKEN: SECRET });
  assert.deepEqual(hubTokenEnv(undefined, {}), {});
  assert.deepEqual(hubTokenEnv('', {}), {});
  assert.equal(envTokenVariable({ HUGGING_FACE_HUB_TOKEN: 'x' }), 'HUGGING_FACE_HUB_TOKEN');
  assert.equal(envTokenVariable({ HF_TOKEN: 'a', HUGGING_FACE_HUB_TOKEN: 'b' }), 'HF_TOKEN');
  assert.equal(envTokenVariable({}), undefined);
});

test('a pasted token is checked before it is stored', () => {
  assert.equal(tokenProblem(SECRET), undefined);
  assert.equal(tokenProblem(`  ${SECRET}\n`), undefined, 'surrounding whitespace is trimmed');
  assert.match(tokenProblem('')!, /huggingface\.co\/settings\/tokens/);
  assert.match(tokenProblem('hf_abc def')!, /no spaces or line breaks/);
  assert.match(tokenProblem('hf_abc\ndef')!, /no spaces or line breaks/);
  assert.match(tokenProblem('x'.repeat(2000))!, /too long/);
});

test('the trainer a run forks gets the token in its environment and never in its arguments', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ft-token-'));
  const report = path.join(dir, 'seen.json');
  const trainer = path.join(dir, 'fake-trainer.js');
  writeFileSync(
    trainer,
    `
require('fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify({ argv: process.argv, execArgv: process.execArgv, token: process.env.HF_TOKEN }));
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
send({ type: 'hello', protocolVersion: 1, engineVersion: 'fake', pid: process.pid, backend: { name: 'cpu', reason: 'fake', tried: [] } });
send({ type: 'done', status: 'completed', step: 0, elapsedMs: 1 });
`,
  );
  const inherited = process.env.HF_TOKEN;
  delete process.env.HF_TOKEN;
  delete process.env.HUGGING_FACE_HUB_TOKEN;
  const m = new RunManager({
    trainerPath: trainer,
    maxParallel: () => 1,
    stopGraceMs: () => 1000,
    env: () => hubTokenEnv(SECRET, process.env),
  });
  try {
    const r = m.start(path.join(dir, 'a.finetune.yaml'));
    await new Promise<RunInfo>((resolve) => m.onDidEndRun((x) => x.id === r.id && resolve(x)));
    const seen = JSON.parse(readFileSync(report, 'utf8')) as { argv: string[]; execArgv: string[]; token: string };
    assert.equal(seen.token, SECRET);
    for (const arg of [...seen.argv, ...seen.execArgv])
      assert.ok(!arg.includes(SECRET), `argv holds the token: ${arg}`);
    assert.ok(
      seen.argv.some((a) => a.endsWith('a.finetune.yaml')),
      'the report is of this run',
    );
  } finally {
    m.dispose();
    if (inherited !== undefined) process.env.HF_TOKEN = inherited;
    rmSync(dir, { recursive: true, force: true });
  }
});
