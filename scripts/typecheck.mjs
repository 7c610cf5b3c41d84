// `npm run typecheck`: one tsc run per process folder, each with the globals of where that code runs (DOM only
// in webview/, Node everywhere else), then the tests, benchmarks and scripts. Exits non-zero if any fails.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const PROJECTS = ['common', 'files', 'trainer', 'server', 'extension', 'webview', '.'];

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
let failed = 0;
for (const project of PROJECTS) {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`typecheck: ${project === '.' ? 'tests, benchmarks and scripts' : `${project}/`} failed`);
  }
}
process.exit(failed ? 1 : 0);
