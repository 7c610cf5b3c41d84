/** The package's version, read from package.json next to the bundle (dist/..) or the source (trainer/cli/../..). */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export function packageVersion(): string {
  const candidates = [path.join(__dirname, '..', 'package.json'), path.join(__dirname, '..', '..', 'package.json')];
  for (const p of candidates) {
    try {
      const v = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (v.name === 'finetune-studio' && v.version) return v.version;
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0-dev';
}
