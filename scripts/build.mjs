// Builds dist/ (or $GPUGRAD_DIST) with esbuild: every .ts under src/, test/, bench/ and examples/ is transpiled one-to-one (no bundling,
// so the library has one module instance per process), then the playground page is bundled into dist/playground
// (scripts/build-playground.mjs). Type-checking is separate: `npm run typecheck`.
import { build } from 'esbuild';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildPlayground } from './build-playground.mjs';

const roots = ['src', 'test', 'bench', 'examples'];
const files = [];
const walk = (dir) => {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(p);
  }
};
for (const r of roots) { try { walk(r); } catch { /* missing folder */ } }
const outdir = process.env.GPUGRAD_DIST ?? 'dist';
rmSync(outdir, { recursive: true, force: true, maxRetries: 3 });
await build({
  entryPoints: files,
  outdir,
  outbase: '.',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
await buildPlayground(outdir);
