/**
 * The /proc readers of the remote e2e journey (test/e2e/processTree.mjs), on a real tree: this test starts a child
 * that starts a grandchild, and the grandchild's ancestry must pass through the child up to this process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { ancestry, argvOf, describeChain, hasProcFs, parentOf, processesWhere } from '../e2e/processTree.mjs';

/** A node child that starts a grandchild whose argv holds `marker`; the child prints the grandchild's pid. */
async function startFamily(marker: string): Promise<{ child: ChildProcess; grandchild: number }> {
  const grand = `setTimeout(() => {}, 60000)`;
  const script = `const c = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grand)}, '${marker}'], { stdio: 'ignore' });
    process.stdout.write(String(c.pid) + '\\n');
    process.on('SIGTERM', () => { c.kill(); process.exit(0); });
    setTimeout(() => {}, 60000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, grandchild: Number(chunk.toString().trim()) };
}

test('a grandchild’s ancestry passes through its parent up to this process', async (t) => {
  if (!hasProcFs()) return t.skip('the process tree is read from /proc, which only Linux has');
  // Not an option: node would refuse `--x` after `-e code` and the grandchild would be gone at once.
  const marker = `process-tree-test-${process.pid}`;
  const { child, grandchild } = await startFamily(marker);
  try {
    assert.equal(parentOf(grandchild), child.pid);
    const chain = ancestry(grandchild);
    assert.deepEqual(
      chain.slice(0, 3).map((p) => p.pid),
      [grandchild, child.pid, process.pid],
      describeChain(chain),
    );
    assert.ok(argvOf(grandchild)!.includes(marker), 'the grandchild’s argv is read whole');
    assert.deepEqual(
      processesWhere((argv) => argv.includes(marker)).map((p) => p.pid),
      [grandchild],
    );
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

test('an exited process has no argv and no parent, and its ancestry says it is not running', async (t) => {
  if (!hasProcFs()) return t.skip('the process tree is read from /proc, which only Linux has');
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(child, 'exit');
  // Reaped by the 'exit' handler: no /proc entry is left for its pid (unless the pid is reused at once).
  const pid = child.pid!;
  assert.equal(argvOf(pid), undefined);
  assert.equal(parentOf(pid), undefined);
  assert.throws(() => ancestry(pid), /not running/);
});
