// Who started whom, as Linux's /proc tells it. The remote journey of panels.e2e.mjs walks these links to show
// that the trainer and the language server run under code-server's extension host, on the server side, and not
// under the browser that renders the webviews.
import * as fs from 'node:fs';

/** Whether this machine has a Linux /proc to read; elsewhere the process journey skips, saying so. */
export function hasProcFs() {
  return process.platform === 'linux' && fs.existsSync(`/proc/${process.pid}/status`);
}

/** A process's read of /proc; undefined once the process has exited (its folder is gone). */
function readProc(pid, file) {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ESRCH') return undefined;
    throw e;
  }
}

/** A process's argv from /proc/<pid>/cmdline (NUL-separated); undefined once it has exited. */
export function argvOf(pid) {
  return readProc(pid, 'cmdline')?.split('\0').filter(Boolean);
}

/**
 * A process's parent pid, from the `PPid:` line of /proc/<pid>/status: unlike /proc/<pid>/stat it needs no care
 * for a command name holding spaces or parentheses. Undefined once the process has exited.
 */
export function parentOf(pid) {
  const status = readProc(pid, 'status');
  if (status === undefined) return undefined;
  const m = /^PPid:\s*(\d+)$/m.exec(status);
  if (!m) throw new Error(`/proc/${pid}/status has no PPid line`);
  return Number(m[1]);
}

/**
 * The chain from `pid` up to the root of the tree (pid 1, or the container's first process): `[{ pid, argv }, …]`,
 * `pid` first. Throws when `pid` is not running; ends early if an ancestor exits during the walk.
 */
export function ancestry(pid) {
  const chain = [];
  for (let p = pid; p > 0 && chain.length < 256;) {
    const argv = argvOf(p);
    const parent = parentOf(p);
    if (argv === undefined || parent === undefined) {
      if (p === pid) throw new Error(`process ${pid} is not running`);
      break;
    }
    chain.push({ pid: p, argv });
    p = parent;
  }
  return chain;
}

/** Every running process whose argv satisfies `match(argv)`: `[{ pid, argv }]`. */
export function processesWhere(match) {
  const found = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const argv = argvOf(Number(name));
    if (argv && match(argv)) found.push({ pid: Number(name), argv });
  }
  return found;
}

/** A chain for an assertion message, child first: "123 node …/dist/trainer.js train ← 100 node …". */
export function describeChain(chain) {
  // A process's first arguments say what it is; the end of a long path says more than its start.
  const short = (a) => (a.length > 60 ? `…${a.slice(-59)}` : a);
  return chain.map((p) => `${p.pid} ${p.argv.slice(0, 4).map(short).join(' ')}`).join(' ← ');
}
