/**
 * A typed event emitter with VS Code's `Event<T>` shape (a function taking a listener and returning a
 * disposable), so that the run manager and run store stay free of `vscode` and testable under plain node,
 * while the tree, the status bar and the webview panels subscribe to them as to any VS Code event.
 */
export interface Disposable {
  dispose(): void;
}
export type Event<T> = (listener: (e: T) => void, thisArgs?: unknown, disposables?: Disposable[]) => Disposable;

export class Emitter<T> {
  private listeners = new Set<(e: T) => void>();

  readonly event: Event<T> = (listener, thisArgs, disposables) => {
    const bound = thisArgs === undefined ? listener : listener.bind(thisArgs);
    this.listeners.add(bound);
    const d = { dispose: () => void this.listeners.delete(bound) };
    disposables?.push(d);
    return d;
  };

  fire(e: T): void {
    for (const l of [...this.listeners]) {
      // One failing listener (say, a disposed webview) must not keep the others from hearing about a run.
      try {
        l(e);
      } catch (err) {
        console.error('[finetune] event listener failed:', err);
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
