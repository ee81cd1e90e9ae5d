/**
 * The library's version, read from the nearest package.json named gpugrad above this file (in src or a dist folder),
 * and that folder: where the shipped documents (docs/protocol.md) are.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let found: { root: string; version: string } | null | undefined;

function find(): { root: string; version: string } | null {
  if (found !== undefined) return found;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'gpugrad') return (found = { root: dir, version: pkg.version ?? 'unknown' });
    }
    dir = dirname(dir);
  }
  return (found = null);
}

export function libraryVersion(): string { return find()?.version ?? 'unknown'; }

/** The package's folder (with package.json), or null when it cannot be found. */
export function packageRoot(): string | null { return find()?.root ?? null; }
