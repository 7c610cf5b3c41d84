/**
 * When the language server dies: restart it, tell the user once (not on every crash), and give up after too many
 * crashes in a short time, rather than restarting in a loop. No `vscode` import, so it is tested under plain node.
 */
export type CrashDecision =
  /** Restart; `notify` is true only for the first crash of the session. */
  | { action: 'restart'; notify: boolean }
  /** Too many crashes in the window: stop restarting and say so (once). */
  | { action: 'give-up'; notify: true; crashes: number };

export class RestartPolicy {
  private crashTimes: number[] = [];
  private notified = false;
  private gaveUp = false;

  constructor(
    private readonly maxCrashes = 5,
    private readonly windowMs = 3 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  onCrash(): CrashDecision {
    const t = this.now();
    this.crashTimes = [...this.crashTimes.filter((c) => t - c < this.windowMs), t];
    if (this.gaveUp || this.crashTimes.length >= this.maxCrashes) {
      this.gaveUp = true;
      return { action: 'give-up', notify: true, crashes: this.crashTimes.length };
    }
    const notify = !this.notified;
    this.notified = true;
    return { action: 'restart', notify };
  }
}
