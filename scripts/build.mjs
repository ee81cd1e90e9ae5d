// Builds dist/ (or $GPUGRAD_DIST) with esbuild: every .ts under src/, test/, bench/ and examples/ is transpiled
// one-to-one (no bundling, so the library has one module instance per process), and the playground page is bundled
// into dist/playground (scripts/build-playground.mjs; `gpugrad serve` serves it, so the package holds it too).
// Type-checking is separate: `npm run typecheck`.
//   node scripts/build.mjs             the development build: src, test, bench, examples (what `npm test` runs)
//   node scripts/build.mjs --types     the same, plus the .d.ts declarations of the public API (`npm run build`)
//   node scripts/build.mjs --package   what the npm package holds: src and the declarations (`prepack`)
// Only the folders being built are replaced, so packing in a development checkout leaves dist/test in place.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildPlayground } from './build-playground.mjs';

const flags = new Set(process.argv.slice(2));
const pkg = flags.has('--package');
const roots = pkg ? ['src'] : ['src', 'test', 'bench', 'examples'];
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
for (const r of [...roots, 'types', 'playground']) rmSync(join(outdir, r), { recursive: true, force: true, maxRetries: 3 });
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
if (pkg || flags.has('--types')) {
  // Declarations of what the two entry points (src/index.ts, src/browser.ts) reach, into <outdir>/types: see
  // tsconfig.build.json. TypeScript 7's tsc emits declarations as tsc 5 did.
  const tsc = join('node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(outdir, 'types')], { stdio: 'inherit' });
}
// the package's copy without source maps: they are 4× the page's size and only a developer's tools read them
await buildPlayground(outdir, { sourcemap: !pkg });
