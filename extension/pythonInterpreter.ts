/**
 * The Python that `engine: pytorch` runs on: the `finetune.python` setting, else the interpreter chosen in the
 * Python extension (ms-python.python, through its public `environments` API), else the trainer's default
 * (`python3`). Read once at activation and again when the user picks another interpreter there.
 */
import * as vscode from 'vscode';

/** The part of the Python extension's exported API this uses (@vscode/python-extension's `environments`). */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
}

export class PythonInterpreter implements vscode.Disposable {
  private fromExtension: string | undefined;
  private subscription: vscode.Disposable | undefined;

  /** Reads the Python extension's interpreter, when that extension is installed; never throws. */
  async start(): Promise<void> {
    const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
    if (!ext) return;
    try {
      const api = ext.isActive ? ext.exports : await ext.activate();
      const envs = api?.environments;
      if (!envs) return;
      const read = () => (this.fromExtension = envs.getActiveEnvironmentPath()?.path || undefined);
      read();
      this.subscription = envs.onDidChangeActiveEnvironmentPath?.(read);
    } catch {
      // A Python extension that fails to start leaves the setting and python3: nothing here to report.
      this.fromExtension = undefined;
    }
  }

  /** The interpreter the Python extension has selected, if any. */
  get selected(): string | undefined {
    return this.fromExtension;
  }

  dispose(): void {
    this.subscription?.dispose();
  }
}
