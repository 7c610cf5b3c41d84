/**
 * Questions about paths that must not throw: "is something there?", "is it a folder?". Node only (the trainer,
 * the language server and the extension host); the webview bundles never import it.
 */
import { promises as fs } from 'node:fs';

export async function pathExists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

export async function isDirectory(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => undefined))?.isDirectory() ?? false;
}
