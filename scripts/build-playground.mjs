// Builds the playground page into <dist>/playground: playground/main.ts bundled with the library's browser entry
// (its imports of src/index.ts — the Node entry — are pointed at src/browser.ts, the same API on navigator.gpu),
// plus the static index.html and style.css. Code splitting keeps Graphviz's wasm build (1.2 MB) in a chunk of its
// own that the page fetches only when it first draws a graph. Called by scripts/build.mjs; runnable alone.
import { build, formatMessages } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every import that resolves to src/index.(js|ts) gets src/browser.ts instead. */
const browserEntry = {
  name: 'gpugrad-browser-entry',
  setup(b) {
    const node = join(root, 'src/index');
    b.onResolve({ filter: /index(\.js)?$/ }, (args) => {
      const p = resolve(args.resolveDir, args.path).replace(/\.js$/, '');
      return p === node ? { path: join(root, 'src/browser.ts') } : undefined;
    });
  },
};

/**
 * The experiments' shared module also holds the MNIST/CIFAR-10 loaders, which exist only in the Node entry: the page
 * never calls them (it uses the function-fitting half), so esbuild's "will always be undefined" about those three
 * names is expected. Every other warning is printed.
 */
const NODE_ONLY = /^Import "(loadMNIST|hasMnistFiles|loadCIFAR10)" will always be undefined/;
const expected = (w) => w.id === 'import-is-undefined' && w.location?.file.endsWith('src/experiments/common.ts') && NODE_ONLY.test(w.text);

export async function buildPlayground(outdir, { sourcemap = true } = {}) {
  const out = join(outdir, 'playground');
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: { app: join(root, 'playground/main.ts') },
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: sourcemap ? 'linked' : false,
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [browserEntry],
    logLevel: 'error',
  });
  const warnings = result.warnings.filter((w) => !expected(w));
  if (warnings.length) console.warn((await formatMessages(warnings, { kind: 'warning', color: true })).join(''));
  for (const f of ['index.html', 'style.css']) copyFileSync(join(root, 'playground', f), join(out, f));
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await buildPlayground(process.env.GPUGRAD_DIST ?? 'dist'));
}
