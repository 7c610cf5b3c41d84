// The test command (README): type-check, build, the plain-node suites, then the end-to-end suites in a real
// VS Code when their set-up is present (`npm run e2e:setup`) or when running in CI. Each suite's output streams
// through; at the end one line adds up every suite's counts.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** What prettier formats and checks (see .prettierrc.json and .prettierignore). */
const FORMATTED = ['{common,files,extension,server,trainer,webview,test,bench,scripts}/**/*.{ts,mts,mjs}', '*.mjs'];

const totals = { pass: 0, fail: 0, skipped: 0 };
/** Every skipped test with its reason, repeated at the end: a skip is a check that did not run, so it shows. */
const skips = [];
const SKIP_LINE = /^\s*ok \d+ - (.*) # SKIP(?: (.*))?$/;

function collectSkips(lines) {
  for (const line of lines) {
    const m = SKIP_LINE.exec(line);
    // --test-name-pattern skips the tests it leaves out; those are not checks that could not run.
    if (m && m[2] !== 'test name does not match pattern') skips.push(`${m[1]}: ${m[2] ?? 'no reason given'}`);
  }
}

function run(cmd, args) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    let partial = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4096);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      collectSkips(lines);
    });
    child.on('close', (code, signal) => {
      collectSkips([partial]);
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
// The line width (120) and layout of every source file: `npm run format` fixes what this reports.
await run('npx', ['prettier', '--check', ...FORMATTED]);
await run('node', ['esbuild.mjs']);
await run('npm', ['run', '--silent', 'test:unit']);
if (process.env.CI || existsSync('.e2e/ready')) {
  await run('node', [
    '--test',
    '--test-concurrency=1',
    'test/e2e/run.mjs',
    'test/e2e/panels.e2e.mjs',
    'test/e2e/pairs.e2e.mjs',
  ]);
} else {
  console.log('\n(end-to-end suites skipped: run `npm run e2e:setup` once to enable them)');
}
if (skips.length) console.log(`\nskipped:\n${skips.map((s) => `  ${s}`).join('\n')}`);
console.log(`\ntests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
