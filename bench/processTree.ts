/**
 * Memory and CPU time of a process and everything it started (the Node trainer, its worker threads, and the
 * Python worker of engine: pytorch), read from Linux's /proc. A training loop's peak RSS is the whole tree's:
 * the PyTorch engine's Python process holds the model while the Node process that started it holds its own.
 * Elsewhere `TreeSampler.available` is false and the numbers are null, never guessed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** What one process of the tree looked like the last time it was read. */
export interface ProcessPeak {
  pid: number;
  /** The kernel's short name (`node`, `python3`). */
  name: string;
  /** The command line, cut to COMMAND_CHARS: tells the trainer's probe of Python from its worker. */
  command: string;
  /** Its own high-water mark (VmHWM), MiB: exact for that process, whenever the peak happened. */
  peak_rss_mb: number;
}

export interface TreeMemory {
  /** The largest sum of the tree's RSS over the samples, MiB: a lower bound of the true peak between samples. */
  peak_rss_mb: number;
  /** Each process's own peak; their sum bounds the tree's peak from above (the peaks need not coincide). */
  processes: ProcessPeak[];
}

const MIB_PER_KIB = 1 / 1024;
const COMMAND_CHARS = 160;

function commandOf(pid: number): string {
  const text = readProc(`/proc/${pid}/cmdline`) ?? '';
  return text.replace(/\0+$/, '').replace(/\0/g, ' ').slice(0, COMMAND_CHARS);
}

/** /proc/<pid>/stat after the command name, which may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | null {
  const text = readProc(`/proc/${pid}/stat`);
  if (text === null) return null;
  const close = text.lastIndexOf(')');
  return close < 0 ? null : text.slice(close + 2).split(' ');
}

function readProc(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    // The process ended between listing and reading: it is simply no longer part of the tree.
    return null;
  }
}

/** The process's children, from the kernel's per-thread lists, else by scanning every process's parent. */
function childrenOf(pid: number): number[] {
  const tasks = `/proc/${pid}/task`;
  if (existsSync(`${tasks}/${pid}/children`)) {
    const out: number[] = [];
    for (const tid of safeList(tasks)) {
      const text = readProc(`${tasks}/${tid}/children`);
      if (text) out.push(...text.trim().split(/\s+/).filter(Boolean).map(Number));
    }
    return out;
  }
  return safeList('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((p) => statFields(p)?.[1] === String(pid));
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The root and its descendants that are alive now. */
export function treePids(root: number): number[] {
  const seen = new Set<number>();
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (seen.has(pid) || !existsSync(`/proc/${pid}`)) continue;
    seen.add(pid);
    queue.push(...childrenOf(pid));
  }
  return [...seen];
}

function statusKib(status: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

let clockTicks: number | undefined;
/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat (100 on nearly every Linux). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    clockTicks = r.status === 0 && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** Samples a process tree's RSS every `everyMs` until stopped, and reads its CPU time on demand. */
export class TreeSampler {
  static readonly available = process.platform === 'linux' && existsSync('/proc/self/status');
  private timer: NodeJS.Timeout | undefined;
  private peakKib = 0;
  private readonly peaks = new Map<number, ProcessPeak>();

  constructor(
    private readonly root: number,
    private readonly everyMs = 200,
  ) {}

  start(): this {
    if (!TreeSampler.available) return this;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  /** One reading of every live process of the tree. */
  sample(): void {
    let sum = 0;
    for (const pid of treePids(this.root)) {
      const status = readProc(`/proc/${pid}/status`);
      if (status === null) continue;
      sum += statusKib(status, 'VmRSS');
      // A process that has exited but not been reaped reads as zero: its peak is the largest seen.
      const peak = Math.max(this.peaks.get(pid)?.peak_rss_mb ?? 0, statusKib(status, 'VmHWM') * MIB_PER_KIB);
      const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?';
      // Read each time: a child seen between fork and exec still shows its parent's command line.
      const command = commandOf(pid) || (this.peaks.get(pid)?.command ?? '');
      this.peaks.set(pid, { pid, name, command, peak_rss_mb: peak });
    }
    this.peakKib = Math.max(this.peakKib, sum);
  }

  /** CPU seconds (user + system, every thread) the tree's live processes have used so far; null off Linux. */
  cpuSeconds(): number | null {
    if (!TreeSampler.available) return null;
    let ticks = 0;
    for (const pid of treePids(this.root)) {
      const f = statFields(pid);
      // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name.
      if (f) ticks += Number(f[11]) + Number(f[12]);
    }
    return ticks / ticksPerSecond();
  }

  /** Stops sampling; null when /proc is not there to read. */
  stop(): TreeMemory | null {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!TreeSampler.available) return null;
    return { peak_rss_mb: this.peakKib * MIB_PER_KIB, processes: [...this.peaks.values()] };
  }
}
