// The test command (README): type-check, build, the plain-node suites, then the end-to-end suite when its
// set-up is present (`npm run e2e:setup`) or when running in CI.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function run(cmd, args, env = {}) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env }, shell: false });
  if (r.status !== 0) {
    console.error(`\n✗ ${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
    process.exit(r.status ?? 1);
  }
}

run('npx', ['tsc', '--noEmit', '-p', '.']);
run('node', ['esbuild.mjs']);
run('npm', ['run', '--silent', 'test:unit']);
if (existsSync('test/e2e/run.mjs') && (process.env.CI || existsSync('.e2e/ready'))) run('node', ['test/e2e/run.mjs']);
