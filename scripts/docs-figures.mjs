// Draws the figures of docs/autograd.md (docs/figures/*.svg) with `gpugrad graph`'s own code, from dist/ (build first).
// `--check` redraws them in memory and exits 1 naming each committed figure that differs (test/autograd-docs.test.ts
// runs it), so the pictures in the document are the library's output as it is. They are drawn with stableIds (boxes
// numbered within each graph, no tensor ids): what else the library creates first does not change them.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

process.env.GPUGRAD_WEBGPU = '0';
process.env.GPUGRAD_DEVICE = 'cpu';
const dist = resolve(process.env.GPUGRAD_DIST ?? 'dist');
const { drawExpression } = await import(pathToFileURL(join(dist, 'src/playground/draw.js')).href);

/** name → what to draw; docs/autograd.md shows each as figures/<name>.svg */
export const FIGURES = {
  'autograd-forward': { expression: 'w.mul(3).relu().sum()', variables: 'w = [0.5, -1]', mode: 'forward' },
  'autograd-backward': { expression: 'x.mul(y).relu().sum()', variables: 'x = [1, -2, 3]; y = [0.5, 2, -1]', mode: 'backward' },
  'autograd-hvp': { expression: 'p.pow(3).sum()', variables: 'p = [1, -2, 0.5]', mode: 'hvp' },
};

const check = process.argv.includes('--check');
const dir = 'docs/figures';
mkdirSync(dir, { recursive: true });
const stale = [];
for (const [name, f] of Object.entries(FIGURES)) {
  const svg = await drawExpression(f.expression, f.variables, { mode: f.mode, device: 'cpu', stableIds: true });
  const file = join(dir, `${name}.svg`);
  if (check) {
    if (!existsSync(file) || readFileSync(file, 'utf8') !== svg) stale.push(file);
  } else {
    writeFileSync(file, svg);
    console.log(file);
  }
}
if (stale.length) {
  console.error(`out of date: ${stale.join(', ')}; run \`npm run build && node scripts/docs-figures.mjs\` and commit them`);
  process.exit(1);
}
