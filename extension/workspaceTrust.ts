/**
 * Restricted Mode (package.json `capabilities.untrustedWorkspaces`: "limited"). A run reads and writes the files
 * its config names, may download models from the Hub, and forks a trainer, so an untrusted workspace gets the
 * editor features only — diagnostics, completion and hover on configs, the runs already on disk — and no trainer.
 * This is the choice of extensions that run workspace-adjacent tools (vscode-eslint, rust-analyzer): read-only
 * help stays, anything that executes or writes waits for trust. The run manager refuses as the last line.
 */
import * as vscode from 'vscode';

/** Whether the workspace is trusted; if not, says why nothing starts and offers to manage trust. */
export async function requireTrust(action: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const choice = await vscode.window.showWarningMessage(
    `${action} needs a trusted workspace: a run reads and writes the files its config names and starts a trainer ` +
      'process. In Restricted Mode, Fine-Tune Studio only checks configs and shows existing runs.',
    'Manage Workspace Trust',
  );
  if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
