/**
 * The webview half of the host protocol (common/webviewProtocol.ts), shared by every panel: says `ready`, applies
 * the snapshot and the appends in order, asks for a new snapshot on a gap, validates every message from the host
 * and every command it sends, and keeps the last snapshot in the webview state so a reload restores at once.
 */
import { SequenceReceiver, checkCommand, checkHostToWebview, checkReply } from '../common/webviewProtocol';
import type { CommandArgs, CommandName, CommandReply, CommandTable } from '../common/webviewProtocol';
import type { Guard } from '../common/guard';

interface VsCodeApi {
  postMessage(m: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export interface PanelIpcOptions<S, A, T extends CommandTable> {
  state: Guard<S>;
  append: Guard<A>;
  commands: T;
  onSnapshot(state: S): void;
  onAppend(item: A): void;
  /** Shown in the panel when something from the host is invalid (a bug, never user data). */
  onProblem?(message: string): void;
}

/** A request waiting for its reply, which is checked by the guard of the command that asked. */
interface Pending {
  answer(value: unknown): void;
  reject(e: Error): void;
}

export class PanelIpc<S, A, T extends CommandTable> {
  private readonly vscode = acquireVsCodeApi();
  private readonly seq = new SequenceReceiver();
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly o: PanelIpcOptions<S, A, T>) {
    window.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    const prev = this.vscode.getState() as { view?: object } | undefined;
    this.saveViewState(prev?.view ?? {});
    this.vscode.postMessage({ type: 'ready' });
  }

  /** Fire-and-forget user action; checked against the panel's command table before it leaves. */
  command<K extends CommandName<T>>(name: K, args: CommandArgs<T, K>): void {
    const c = checkCommand(this.o.commands, { name, args });
    if (!c.ok) return this.problem(c.error);
    this.vscode.postMessage({ type: 'command', name, args });
  }

  /** A request whose answer comes back as a `reply`, checked by the command's reply guard. */
  request<K extends CommandName<T>>(name: K, args: CommandArgs<T, K>): Promise<CommandReply<T, K>> {
    const c = checkCommand(this.o.commands, { name, args });
    if (!c.ok) return Promise.reject(new Error(c.error));
    const id = this.nextId++;
    this.vscode.postMessage({ type: 'command', name, args, id });
    return new Promise((resolve, reject) => {
      const answer = (value: unknown) => {
        const r = checkReply(this.o.commands, name, value);
        if (r.ok) resolve(r.value);
        else reject(new Error(r.error));
      };
      this.pending.set(id, { answer, reject });
    });
  }

  /** Panel-local view settings (zoom, smoothing, …) that should survive a reload. */
  viewState<T extends object>(fallback: T): T {
    const s = this.vscode.getState() as { view?: T } | undefined;
    return { ...fallback, ...(s?.view ?? {}) };
  }
  saveViewState(view: object): void {
    this.vscode.setState({ ident: this.ident, view });
  }

  /**
   * What this page shows (run ids, config), put in the page by the host; kept in the webview state because that
   * is what VS Code hands the panel serializer after a reload.
   */
  private readonly ident: unknown = (() => {
    try {
      return JSON.parse(document.querySelector('meta[name="finetune-ident"]')?.getAttribute('content') ?? 'null');
    } catch {
      return null;
    }
  })();

  private receive(data: unknown): void {
    const m = checkHostToWebview(data);
    if (!m.ok) return this.problem(m.error);
    const msg = m.value;
    if (msg.type === 'reply') {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (!p) return;
      if (msg.ok) p.answer(msg.value);
      else p.reject(new Error(msg.error ?? 'failed'));
      return;
    }
    const verdict = this.seq.accept(msg);
    if (verdict === 'resync') {
      this.vscode.postMessage({ type: 'resync', lastSeq: this.seq.lastSeq });
      return;
    }
    if (verdict === 'ignore') return;
    if (msg.type === 'snapshot') {
      const problem = this.o.state.check(msg.state, 'state');
      if (problem) return this.problem(problem);
      this.o.onSnapshot(msg.state as S);
    } else {
      const problem = this.o.append.check(msg.item, 'item');
      if (problem) {
        // A message we cannot apply leaves our copy behind the host's: start over from a snapshot.
        this.problem(problem);
        this.vscode.postMessage({ type: 'resync', lastSeq: -1 });
        return;
      }
      this.o.onAppend(msg.item as A);
    }
  }

  private problem(message: string): void {
    console.error('[finetune webview]', message);
    this.o.onProblem?.(message);
  }
}
