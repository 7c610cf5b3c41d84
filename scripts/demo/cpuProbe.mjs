/**
 * Preloaded into every Node process of a demo run (through NODE_OPTIONS, so the engine's CLI and the trainer it
 * starts both have it): on exit, appends the process's CPU time (user and system, all its threads) as one JSON line
 * to the file named by DEMO_CPU_FILE. On a machine shared with other work, wall-clock time says little; the sum of
 * these says what the demo itself cost. Plain JavaScript, so that it loads before any TypeScript loader.
 */
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.DEMO_CPU_FILE;
// A worker thread's process.cpuUsage() is the whole process's: only the main thread reports it.
if (file && isMainThread) {
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    try {
      appendFileSync(file, `${JSON.stringify({ pid: process.pid, cpuSeconds: (user + system) / 1e6 })}\n`);
    } catch {
      // Measuring must never fail a run; the report then shows n/a for this run's CPU time.
    }
  });
}
