// The test command (README): type-check, build, the plain-node suites, then the end-to-end suites in a real
// VS Code when their set-up is present (`npm run e2e:setup`) or when running in CI. Each suite's output streams
// through; at the end one line adds up every suite's counts.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const totals = { pass: 0, fail: 0, skipped: 0 };

function run(cmd, args) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4096);
    });
    child.on('close', (code, signal) => {
      // node:test's closing summary: "# pass N", "# fail N", "# skipped N".
      for (const key of Object.keys(totals)) {
        const m = new RegExp(`^# ${key} (\\d+)$`, 'm').exec(tail);
        if (m) totals[key] += Number(m[1]);
      }
      if (code !== 0) {
        console.error(`\n✗ ${cmd} ${args.join(' ')} exited with ${code ?? signal}`);
        console.log(`\ntests: ${totals.pass} passed, ${Math.max(totals.fail, 1)} failed, ${totals.skipped} skipped`);
        process.exit(code ?? 1);
      }
      resolve();
    });
  });
}

await run('node', ['scripts/typecheck.mjs']);
await run('node', ['esbuild.mjs']);
await run('npm', ['run', '--silent', 'test:unit']);
if (process.env.CI || existsSync('.e2e/ready')) {
  await run('node', ['--test', '--test-concurrency=1', 'test/e2e/run.mjs', 'test/e2e/panels.e2e.mjs']);
} else {
  console.log('\n(end-to-end suites skipped: run `npm run e2e:setup` once to enable them)');
}
console.log(`\ntests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
