/**
 * The package as a user gets it: `npm pack` from a copy of the sources with no build in it (so `prepack` must build
 * everything the package needs), the tarball installed into an empty project with `npm install <tgz>` (from npm's
 * cache, offline), and there, with no path rewriting:
 *   - the README's five lines, unchanged, in an .mjs file print the device and the result;
 *   - the same lines in a .ts file type-check with tsc --noEmit under moduleResolution "bundler" and "node16"
 *     (skipLibCheck off: the published declarations must be complete on their own);
 *   - `npx gpugrad list`, and `npx gpugrad run fit-functions --preset test` with no Vulkan driver configured (the
 *     installed command sets up SwiftShader itself, as in the checkout).
 * Each step is one test; they share the staged folders and stop at the first that leaves nothing for the next.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = process.cwd();
const stage = mkdtempSync(join(tmpdir(), 'gpugrad-package-'));
const source = join(stage, 'gpugrad'); // the sources, as a clean clone has them
const app = join(stage, 'app'); // the user's project
const block = /```js\n([\s\S]*?)```/.exec(readFileSync('README.md', 'utf8'))?.[1] ?? '';
const times: string[] = [];
let tarball = '';

/** Runs a command, timing it; fails the test with its output when it exits non-zero. */
function sh(what: string, cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): SpawnSyncReturns<string> {
  const started = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeout ?? 180_000, cwd: opts.cwd, env: opts.env ?? process.env });
  times.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.is(r.status, 0, `${what}: ${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r;
}

test('npm pack builds the package from sources alone and packs the build, the declarations and the command', () => {
  mkdirSync(source);
  for (const f of ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'src', 'scripts', 'bin', 'playground']) {
    cpSync(f, join(source, f), { recursive: true });
  }
  symlinkSync(join(repo, 'node_modules'), join(source, 'node_modules')); // the build tools (esbuild, tsc)
  const r = sh('npm pack', 'npm', ['pack', '--json', '--pack-destination', stage], { cwd: source });
  const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as { filename: string; size: number; files: { path: string }[] }[];
  tarball = join(stage, info.filename);
  const files = info.files.map((f) => f.path);
  for (const f of ['dist/src/index.js', 'dist/src/browser.js', 'dist/src/cli/main.js', 'dist/types/index.d.ts',
    'dist/types/browser.d.ts', 'bin/gpugrad.js', 'scripts/env.mjs', 'scripts/setup-swiftshader.sh', 'README.md',
    'dist/playground/index.html', 'dist/playground/app.js', 'dist/src/nn/hessian-worker.js']) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  const stray = files.filter((f) => /^(src|test|bench|dist\/test|dist\/bench|node_modules)\/|\.ts$/.test(f) && !f.endsWith('.d.ts'));
  assert.equal(stray, [], 'no sources, tests or benchmarks in the package');
  times.push(`tarball ${(info.size / 1024).toFixed(0)} KiB, ${files.length} files`);
});

test('npm install <tarball> into an empty project', () => {
  assert.ok(tarball, 'no tarball (the previous test failed)');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  sh('npm install', 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, timeout: 300_000 });
  assert.ok(existsSync(join(app, 'node_modules/gpugrad/dist/src/index.js')));
});

test("the README's five lines run unchanged from the installed package", () => {
  assert.match(block, /from 'gpugrad'/);
  writeFileSync(join(app, 'readme.mjs'), block);
  const r = sh('README example', process.execPath, ['readme.mjs'], { cwd: app });
  assert.match(r.stdout, /WebGPU: /);
  assert.match(r.stdout, /tensor\(\[\], float32/);
});

test("HessianPool's worker threads start from the installed package (their entry file lies beside the pool)", () => {
  writeFileSync(join(app, 'pool.mjs'), [
    "import * as gg from 'gpugrad';",
    'const sizes = [1, 3, 1];',
    "const on = { device: 'cpu', dtype: 'float64' };",
    'const x = gg.tensor([[0.1], [0.5], [0.9]], on), y = gg.tensor([[1], [0], [1]], on);',
    'const m = new gg.MLPEnsemble(1, sizes, { ...on, generators: [new gg.Generator(1)] });',
    'const p = {};',
    'for (const [k, t] of m.namedParameters()) p[k] = await t.data();',
    'const pool = new gg.HessianPool(sizes, x, y, { tauRel: 1e-6, workers: 2 });',
    'const [s] = await pool.spectra([p]);',
    'console.log(`${pool.workers} workers, ${s.nPositive + s.nNearZero + s.nNegative} eigenvalues`);',
    'await pool.close();',
  ].join('\n'));
  const r = sh('HessianPool', process.execPath, ['pool.mjs'], { cwd: app });
  assert.match(r.stdout, /^2 workers, 10 eigenvalues$/m);
});

for (const resolution of ['bundler', 'node16'] as const) {
  test(`the README's lines type-check as TypeScript (moduleResolution ${resolution}, skipLibCheck off)`, () => {
    writeFileSync(join(app, 'readme.ts'), block);
    const module = resolution === 'bundler' ? 'esnext' : 'node16';
    writeFileSync(join(app, `tsconfig.${resolution}.json`), JSON.stringify({
      compilerOptions: { target: 'es2022', module, moduleResolution: resolution, strict: true, noEmit: true, skipLibCheck: false, types: [] },
      files: ['readme.ts'],
    }));
    sh(`tsc ${resolution}`, process.execPath, [resolve(repo, 'node_modules/typescript/bin/tsc'), '-p', `tsconfig.${resolution}.json`], { cwd: app });
  });
}

test('a type error in user code is reported against the published declarations (the check can fail)', () => {
  writeFileSync(join(app, 'wrong.ts'), "import * as gg from 'gpugrad';\nconst t: string = gg.tensor([1, 2]);\nconsole.log(t);\n");
  writeFileSync(join(app, 'tsconfig.wrong.json'), JSON.stringify({
    compilerOptions: { target: 'es2022', module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, types: [] },
    files: ['wrong.ts'],
  }));
  const r = spawnSync(process.execPath, [resolve(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.wrong.json', '--pretty', 'false'], { cwd: app, encoding: 'utf8' });
  assert.is.not(r.status, 0, 'tsc accepted a Tensor as a string');
  assert.ok(/TS2322: Type 'Tensor' is not assignable to type 'string'/.test(r.stdout), `tsc said: ${r.stdout}${r.stderr}`);
});

test('npx gpugrad list works from the install', () => {
  const r = sh('npx gpugrad list', 'npx', ['--no', 'gpugrad', 'list'], { cwd: app });
  for (const name of ['fit-functions', 'mnist-cnns', 'minimal-ratio']) assert.match(r.stdout, name);
});

test('npx gpugrad run fit-functions --preset test, with no Vulkan driver configured, runs on WebGPU', () => {
  const env = { ...process.env };
  delete env.VK_ICD_FILENAMES; // the installed command must find or set up SwiftShader itself
  const out = join(stage, 'runs');
  sh('npx gpugrad run', 'npx', ['--no', 'gpugrad', 'run', 'fit-functions', '--preset', 'test', '--out', out], { cwd: app, env, timeout: 600_000 });
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Record<string, unknown>;
  assert.match(JSON.stringify(results), /WebGPU: /);
  assert.ok(!existsSync(join(app, 'node_modules/gpugrad/dist/test')), 'nothing was built in the installed package');
});

test('timings', () => {
  process.stdout.write(`\n  package test: ${times.join('; ')}\n`);
  rmSync(stage, { recursive: true, force: true, maxRetries: 3 });
});

test.run();
