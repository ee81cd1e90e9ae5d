/** The library's version, read from the nearest package.json named gpugrad above this file (in src or a dist folder). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

export function libraryVersion(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'gpugrad') return (cached = pkg.version ?? 'unknown');
    }
    dir = dirname(dir);
  }
  return (cached = 'unknown');
}
