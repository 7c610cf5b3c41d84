import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a file so that readers see either the old content or the new, never a half-written file:
 * a temp file in the same directory (same filesystem, so rename is atomic), fsync, then rename over.
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
}

/**
 * Moves a fully written directory (e.g. `.checkpoint-10.tmp-123`) to its final name. An existing target
 * is moved aside first and removed after, since rename cannot replace a non-empty directory.
 */
export async function renameDirAtomic(from: string, to: string): Promise<void> {
  let aside: string | undefined;
  try {
    await fs.rename(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw e;
    aside = `${to}.old-${process.pid}`;
    await fs.rm(aside, { recursive: true, force: true });
    await fs.rename(to, aside);
    await fs.rename(from, to);
  }
  await fsyncDir(path.dirname(to));
  if (aside !== undefined) await fs.rm(aside, { recursive: true, force: true });
}

async function fsyncDir(dir: string): Promise<void> {
  // Directory fsync makes the rename durable on POSIX; Windows cannot open directories, which is fine.
  let h: fs.FileHandle | undefined;
  try {
    h = await fs.open(dir, 'r');
    await h.sync();
  } catch {
    // best effort
  } finally {
    await h?.close().catch(() => undefined);
  }
}
