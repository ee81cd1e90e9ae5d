/**
 * docs/autograd.md must stay true: its runnable ```ts blocks are joined into one program and run (on each device),
 * its excerpts (blocks starting with `// from src/...`) must appear word for word in the named source file, and its
 * figures (docs/figures/*.svg) must be what scripts/docs-figures.mjs draws with the library as it is.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { transformSync } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { webgpuAvailable } from './helpers.js';

const doc = readFileSync('docs/autograd.md', 'utf8');
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const excerpts = blocks.filter((b) => b.startsWith('// from '));
const program = blocks.filter((b) => !b.startsWith('// from ')).join('\n');

test('the excerpts are quoted word for word from the library', () => {
  assert.ok(excerpts.length >= 4, 'the tour quotes the engine');
  for (const e of excerpts) {
    const [first, ...rest] = e.split('\n');
    const file = first.replace('// from ', '').trim();
    assert.ok(readFileSync(file, 'utf8').includes(rest.join('\n')), `the excerpt from ${file} is out of date:\n${rest.join('\n')}`);
  }
});

test('the figures are the library\'s own drawings, as it draws them now', () => {
  const shown = [...doc.matchAll(/\]\((figures\/[\w-]+\.svg)\)/g)].map((m) => m[1]);
  assert.ok(shown.length >= 3, 'the tour shows the forward graph, gradients and H·v');
  for (const f of shown) assert.ok(existsSync(join('docs', f)), `docs/${f} is missing`);
  const r = spawnSync(process.execPath, ['scripts/docs-figures.mjs', '--check'], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stderr);
});

for (const device of ['cpu', 'webgpu', 'wasm']) {
  test(`the tour's code runs on ${device}`, () => {
    if (device === 'webgpu' && !webgpuAvailable()) return;
    assert.ok(program.includes("from 'gpugrad'"));
    const dir = mkdtempSync(join(tmpdir(), 'gpugrad-doc-'));
    const file = join(dir, 'tour.mjs');
    const dist = resolve(process.env.GPUGRAD_DIST ?? 'dist', 'src/index.js');
    const js = transformSync(program, { loader: 'ts', format: 'esm', target: 'node20' }).code;
    writeFileSync(file, js.replace(/from "gpugrad"/g, `from "${dist}"`) + '\nprocess.exit(0);\n');
    const r = spawnSync(process.execPath, [file], { env: { ...process.env, GPUGRAD_DEVICE: device }, encoding: 'utf8', timeout: 120_000 });
    rmSync(dir, { recursive: true, force: true });
    assert.is(r.status, 0, `exit status ${r.status}; stderr: ${r.stderr}`);
  });
}

test.run();
