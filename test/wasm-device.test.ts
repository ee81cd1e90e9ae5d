/**
 * The wasm device's own paths, each forced (the shared op tests in the other files run every op on wasm too, but at
 * the sizes where a matmul stays on the CPU loop or one thread): the SIMD gemm on shapes around its tile (4 × 8 f32,
 * 4 × 4 f64), its k block (256) and n block, with strided and broadcast operands and the epilogue, on one thread and
 * split over the workers; conv through the gemm in float64 by finite differences; the SIMD Adam; memory growth and
 * the pool. The gemm has two multiply-adds (SIMD128's mul + add, relaxed SIMD's FMA): the tests run with the one this
 * engine picks, and one test reruns the gemm tests in a child process with the other (GEMM_VARIANT_CHILD below).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { WasmBackend } from '../src/kernels/wasm/backend.js';
import { relaxedSimdSupported } from '../src/kernels/wasm/emit.js';
import { wasmTuning } from '../src/kernels/wasm/run-gemm.js';
import { getBackend } from '../src/tensor/device.js';
import { assertClose, compareDevices, g, randomArray, sizeOf } from './helpers.js';

/** Set in the child that reruns the gemm tests with the other multiply-add: the other tests are skipped there. */
const GEMM_VARIANT_CHILD = process.env.GPUGRAD_TEST_GEMM_VARIANT === '1';
const other = GEMM_VARIANT_CHILD ? test.skip : test;

const saved = { ...wasmTuning };
const restore = () => Object.assign(wasmTuning, saved);

interface Case { a: number[]; b: number[]; f: (a: g.Tensor, b: g.Tensor) => g.Tensor; what: string }
const cases: Case[] = [
  { a: [1, 1], b: [1, 1], f: (a, b) => a.matmul(b), what: '1×1' },
  { a: [4, 8], b: [8, 8], f: (a, b) => a.matmul(b), what: 'one whole tile' },
  { a: [5, 9], b: [9, 9], f: (a, b) => a.matmul(b), what: 'one tile and one row/column over' },
  { a: [3, 7], b: [7, 7], f: (a, b) => a.matmul(b), what: 'less than a tile' },
  { a: [37, 300], b: [300, 45], f: (a, b) => a.matmul(b), what: 'k over one k block (256), partial tiles' },
  { a: [9, 20], b: [20, 150], f: (a, b) => a.matmul(b), what: 'n over one n block' },
  { a: [20, 16], b: [10, 16], f: (a, b) => a.matmul(b.T), what: 'x·Wᵀ' },
  { a: [12, 17], b: [12, 21], f: (a, b) => a.T.matmul(b), what: 'xᵀ·dy' },
  { a: [9, 14], b: [14, 10], f: (a, b) => a.slice(1, 1, 13).matmul(b.slice(0, 1, 13)), what: 'offset views' },
  { a: [2, 3, 8, 12], b: [12, 20], f: (a, b) => a.matmul(b), what: 'broadcast batch of B' },
  { a: [6, 10], b: [5, 10, 11], f: (a, b) => a.matmul(b), what: 'broadcast batch of A' },
  { a: [7, 5, 10], b: [7, 10, 10], f: (a, b) => a.matmul(b), what: 'a batch of 10-wide layers (the ensembles)' },
];

if (GEMM_VARIANT_CHILD) console.log(`gemm variant: ${(getBackend('wasm') as WasmBackend).fma ? 'relaxed FMA' : 'SIMD128 mul + add'}`);

/** `fn` in float64 on the CPU and on wasm (compareDevices runs the devices in float32): every output within `tol`. */
async function compareF64(what: string, inputs: { data: ArrayLike<number>; shape: readonly number[] }[],
  fn: (...xs: g.Tensor[]) => g.Tensor | g.Tensor[], tol = { atol: 1e-12, rtol: 1e-10 }): Promise<void> {
  const run = async (device: g.DeviceName) => {
    const xs = inputs.map((i) => g.tensor(Float64Array.from(i.data), { shape: i.shape, dtype: 'float64', device }));
    const outs = g.tidy(() => { const r = fn(...xs); return Array.isArray(r) ? r : [r]; });
    const data = await Promise.all(outs.map((t) => t.data()));
    for (const t of [...xs, ...outs]) t.dispose();
    return data;
  };
  const [got, want] = [await run('wasm'), await run('cpu')];
  got.forEach((d, i) => assertClose(d, want[i], tol, `${what} float64 (output ${i})`));
}

for (const threads of [false, true]) {
  test(`matmul on the SIMD kernel matches the CPU, float32 and float64 (${threads ? 'every job on the threads' : 'one thread'})`, async () => {
    wasmTuning.smallMatmul = 0;
    wasmTuning.threadMinFlops = threads ? 0 : Infinity;
    wasmTuning.threadMinElements = threads ? 0 : Infinity;
    try {
      for (const [i, c] of cases.entries()) {
        const inputs = [{ data: randomArray(sizeOf(c.a), 10 + i), shape: c.a }, { data: randomArray(sizeOf(c.b), 30 + i), shape: c.b }];
        await compareDevices(c.what, inputs, c.f, { atol: 1e-5, rtol: 1e-4 });
        await compareF64(c.what, inputs, c.f);
      }
      // the epilogue: shared bias, per-member bias, ReLU
      const inputs = [
        { data: randomArray(13 * 19, 1), shape: [13, 19] }, { data: randomArray(3 * 11 * 19, 2), shape: [3, 11, 19] },
        { data: randomArray(3 * 11, 3), shape: [3, 11] }, { data: randomArray(11, 4), shape: [11] },
      ];
      const f = (x: g.Tensor, w: g.Tensor, bs: g.Tensor, b: g.Tensor) =>
        [g.fusedLinear(x, w, bs, { relu: true }), g.fusedLinear(x, w.slice(0, 1, 2).reshape([11, 19]), b, { relu: true })];
      await compareDevices('fusedLinear', inputs, f, { atol: 1e-5, rtol: 1e-4 });
      await compareF64('fusedLinear', inputs, f);
      // conv: im2col, col2im and the weight gradient's im2col as batched calls (split by images on the threads)
      const conv = [
        { data: randomArray(5 * 3 * 9 * 7, 5), shape: [5, 3, 9, 7] }, { data: randomArray(6 * 3 * 3 * 2, 6), shape: [6, 3, 3, 2] },
        { data: randomArray(6, 7), shape: [6] },
      ];
      const fc = (x: g.Tensor, w: g.Tensor, b: g.Tensor) => {
        const y = g.conv2d(x, w, b, { stride: [2, 1], padding: 1 });
        return [y, ...g.grad((x, w) => g.conv2d(x, w, b, { stride: [2, 1], padding: 1 }).mul(y.detach()).sum(), [x, w])];
      };
      await compareDevices('conv2d and its gradients', conv, fc, { atol: 1e-4, rtol: 1e-4 });
      await compareF64('conv2d and its gradients', conv, fc);
    } finally {
      restore();
    }
  });
}

test('a matmul with fewer row panels than threads: idle parts still report done', async () => {
  // 2 A panels (m = 8) over more parts than panels: some parts get no work and must still report done
  wasmTuning.smallMatmul = 0;
  wasmTuning.threadMinFlops = 0;
  try {
    await compareDevices('m = 8', [{ data: randomArray(8 * 30, 1), shape: [8, 30] }, { data: randomArray(30 * 9, 2), shape: [30, 9] }],
      (a, b) => a.matmul(b));
    await compareDevices('m = 1', [{ data: randomArray(30, 1), shape: [1, 30] }, { data: randomArray(30 * 9, 2), shape: [30, 9] }],
      (a, b) => a.matmul(b));
  } finally {
    restore();
  }
});

test('the gemm with the other multiply-add (FMA vs mul + add) passes the same tests, in a child process', () => {
  if (GEMM_VARIANT_CHILD) return;
  const fma = (getBackend('wasm') as WasmBackend).fma;
  // Node 20 compiles relaxed SIMD only behind a V8 flag; engines that have it by default need none
  const flags = !fma && !relaxedSimdSupported() ? ['--experimental-wasm-relaxed-simd'] : [];
  const r = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url)], {
    encoding: 'utf8', timeout: 10 * 60_000,
    env: { ...process.env, GPUGRAD_TEST_GEMM_VARIANT: '1', GPUGRAD_WASM_FMA: fma ? '0' : '1' },
  });
  const out = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, '');
  assert.is(r.status, 0, out);
  assert.match(out, new RegExp(`gemm variant: ${fma ? 'SIMD128 mul \\+ add' : 'relaxed FMA'}`), out);
  assert.match(out, /Passed:\s+[1-9]/, out);
});

test('conv2d and matmul gradients on wasm pass float64 finite differences (the gemm paths)', async () => {
  wasmTuning.smallMatmul = 0;
  try {
    const f64 = (shape: number[], seed: number) =>
      g.tensor(Float64Array.from(randomArray(sizeOf(shape), seed)), { shape, dtype: 'float64', device: 'wasm', requiresGrad: true });
    const x = f64([2, 3, 6, 5], 1), w = f64([4, 3, 3, 2], 2), b = f64([4], 3);
    assert.ok(await g.gradcheck((x, w, b) => g.conv2d(x, w, b, { stride: [2, 1], padding: 1, dilation: [1, 2] }), [x, w, b]));
    const a = f64([5, 7], 4), m = f64([7, 6], 5);
    assert.ok(await g.gradcheck((a, m) => a.matmul(m).relu(), [a, m]));
    assert.ok(await g.gradgradcheck((a, m) => a.matmul(m), [a, m]));
    for (const t of [x, w, b, a, m]) t.dispose();
  } finally {
    restore();
  }
});

other('Adam on wasm (SIMD) follows the CPU reference, odd lengths, weight decay, float32 and float64', async () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const run = async (device: g.DeviceName) => {
      const p = g.tensor(randomArray(13, 1), { device, dtype, requiresGrad: true });
      const opt = new g.Adam([p], { lr: 0.01, weightDecay: 0.1 });
      for (let s = 0; s < 5; s++) g.tidy(() => { opt.zeroGrad(); p.square().mul(p.sin()).sum().backward(); opt.step(); });
      const out = await p.data();
      opt.dispose(); p.dispose();
      return out;
    };
    assertClose(await run('wasm'), await run('cpu'), dtype === 'float64' ? { atol: 1e-12, rtol: 1e-10 } : { atol: 1e-6, rtol: 1e-5 }, dtype);
  }
});

other('SIMD elementwise kernels equal the CPU reference bit for bit: NaN, ±0, ±∞, scalars, odd lengths', async () => {
  const special = [NaN, -0, 0, Infinity, -Infinity, 1.5, -2.25, 3e-39, -7, 0.1, 1e30];
  for (const dtype of ['float32', 'float64'] as const) {
    const run = async (device: g.DeviceName) => {
      const x = g.tensor(special, { device, dtype }), y = g.tensor(special.slice().reverse(), { device, dtype });
      const s = g.tensor([-0.5], { device, dtype });
      const outs = g.tidy(() => [x.relu(), x.neg(), x.abs(), x.sqrt(), x.square(), x.add(y), x.sub(s), s.mul(x), x.div(y),
        g.maximum(x, y), g.minimum(x, s), g.where(x, y, s), g.where(y, s, x)]);
      const data = await Promise.all(outs.map((t) => t.data()));
      for (const t of [x, y, s, ...outs]) t.dispose();
      return data;
    };
    const [got, want] = [await run('wasm'), await run('cpu')];
    got.forEach((d, i) => d.forEach((v, j) => assert.ok(Object.is(v, want[i][j]), `${dtype} op ${i} element ${j}: ${v} vs ${want[i][j]}`)));
  }
});

other('memory: growing the wasm memory keeps earlier tensors; released storages are reused; nothing leaks', async () => {
  const before = g.memory().wasm;
  const small = g.tensor([1, 2, 3], { device: 'wasm' });
  const big = g.zeros([40 << 20], { device: 'wasm' }); // 160 MiB: more than the memory has, so it grows
  assert.equal(Array.from(await small.data()), [1, 2, 3]);
  big.dispose();
  const again = g.zeros([40 << 20], { device: 'wasm' });
  const pool = (getBackend('wasm') as WasmBackend).heap;
  const allocated = pool.allocatedBytes;
  again.dispose();
  const third = g.ones([40 << 20], { device: 'wasm' });
  assert.is(pool.allocatedBytes, allocated, 'the released block is handed out again');
  third.dispose(); small.dispose();
  assert.equal(g.memory().wasm, before);
});

other('max-pool kernels equal the CPU reference bit for bit: NaN wins, ties, ±∞, padding, strides, float32 and float64', async () => {
  const special = [NaN, -0, 0, Infinity, -Infinity, 1.5, 1.5, -7, NaN, 3];
  for (const dtype of ['float32', 'float64'] as const) {
    const run = async (device: g.DeviceName) => {
      const vals = Array.from(randomArray(2 * 3 * 7 * 6, 5), (v, i) => (i % 7 === 3 ? special[i % special.length] : Math.round(v * 2)));
      const x = g.tensor(vals, { shape: [2, 3, 7, 6], dtype, device });
      const outs: g.Tensor[] = [];
      for (const [k, opts] of [[3, { stride: 2, padding: 1 }], [[2, 3], { stride: [1, 2] }], [2, {}]] as const) {
        const y = g.maxPool2d(x, k as number, opts as g.Pool2dOptions);
        const gy = g.tensor(Array.from({ length: y.size }, (_, i) => (i % 5) - 2), { shape: y.shape, dtype, device });
        outs.push(y, g.grad((x) => g.maxPool2d(x, k as number, opts as g.Pool2dOptions).mul(gy).sum(), [x])[0], gy);
      }
      const data = await Promise.all(outs.map((t) => t.data()));
      for (const t of [x, ...outs]) t.dispose();
      return data;
    };
    const [got, want] = [await run('wasm'), await run('cpu')];
    got.forEach((d, i) => d.forEach((v, j) => assert.ok(Object.is(v, want[i][j]), `${dtype} output ${i} element ${j}: ${v} vs ${want[i][j]}`)));
  }
});

/** Runs `body` (module code with `g`, `be` (the wasm backend) and `wasmTuning` in scope) in a fresh process on wasm with
 * two threads; its last stdout line, parsed as JSON, and its stderr. */
function inChild(body: string): { out: Record<string, unknown>; stderr: string } {
  const url = (p: string) => JSON.stringify(pathToFileURL(resolve(process.env.GPUGRAD_DIST ?? 'dist', p)).href);
  const code = `const g = await import(${url('src/index.js')});
    const { getBackend } = await import(${url('src/tensor/device.js')});
    const { wasmTuning } = await import(${url('src/kernels/wasm/run-gemm.js')});
    const be = getBackend('wasm');
    wasmTuning.threadMinFlops = 0;
    ${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, GPUGRAD_DEVICE: 'wasm', GPUGRAD_WASM_THREADS: '2', GPUGRAD_QUIET: '1' },
  });
  assert.is(r.status, 0, `the child failed or hung (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  return { out: JSON.parse(r.stdout.trim().split('\n').at(-1)!), stderr: r.stderr };
}

other('a wasm worker thread that exits between jobs leaves the device working on the main thread', () => {
  const { out, stderr } = inChild(`const a = g.ones([64, 64], { device: 'wasm' });
    await be.pool.terminateWorker(1);
    console.log(JSON.stringify({ s: await a.matmul(a).sum().item() }));`);
  assert.is(out.s, 64 * 64 * 64);
  assert.match(stderr, /wasm worker thread 1 exited; the wasm device runs single-threaded/);
});

other('a wasm worker thread that dies mid-matmul fails that op with a clear error (no hang, nothing lost); the next op runs', () => {
  // the supervisor kills worker 1 once the next job has started; each matmul's share takes it ~100 ms
  const { out } = inChild(`const a = g.randn([1024, 1024], { device: 'wasm' });
    const live = () => be.heap.allocatedBytes - be.heap.pooledBytes;
    const before = { heap: live(), tensors: g.memory().wasm.tensors };
    const exited = be.pool.terminateWorker(1, true);
    let error = null;
    for (let i = 0; i < 3 && !error; i++) {
      try { a.matmul(a).dispose(); } catch (e) { error = e; }
    }
    const after = { heap: live(), tensors: g.memory().wasm.tensors };
    await exited;
    const ones = g.ones([64, 64], { device: 'wasm' });
    const s = await ones.matmul(ones).sum().item();
    console.log(JSON.stringify({ name: error?.name, message: error?.message, before, after, s }));`);
  assert.is(out.name, 'GpugradError', JSON.stringify(out));
  assert.match(String(out.message), /wasm matmul: worker thread 1 exited while running its share of the job \(1024×1024, k = 1024\).*run the step again/);
  assert.equal(out.after, out.before, 'the failed matmul released its output and scratch');
  assert.is(out.s, 64 * 64 * 64, 'the next matmul runs on the main thread');
});

/** The device a fresh process chooses, and what it says, with `env` on top of this one's environment. */
function choose(env: Record<string, string>): { device: string; info: string; stderr: string } {
  const index = resolve(process.env.GPUGRAD_DIST ?? 'dist', 'src/index.js');
  const code = `const g = await import(${JSON.stringify(pathToFileURL(index).href)}); ` +
    'console.log(JSON.stringify({ device: g.getDevice(), info: g.deviceInfo() })); g.shutdown();';
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, GPUGRAD_QUIET: '', ...env },
  });
  assert.is(r.status, 0, r.stderr);
  return { ...JSON.parse(r.stdout.trim().split('\n').at(-1)!), stderr: r.stderr };
}

other('default device: wasm where the only adapter is SwiftShader (one line says so), WebGPU when asked or under the test suite', () => {
  const auto = choose({ GPUGRAD_REQUIRE_WEBGPU: '0', GPUGRAD_DEVICE: '' });
  if (g.hasWebGPU() && /swiftshader/i.test(g.deviceInfo('webgpu'))) {
    assert.is(auto.device, 'wasm');
    assert.match(auto.stderr, /only WebGPU adapter is a software one.*--device webgpu/);
  } else if (!g.hasWebGPU()) {
    assert.is(auto.device, 'wasm');
  }
  assert.match(auto.info, /^(wasm: WebAssembly SIMD128( \+ relaxed FMA)?, \d+ threads?|WebGPU)/);
  if (g.hasWebGPU()) assert.is(choose({ GPUGRAD_DEVICE: 'webgpu' }).device, 'webgpu');
  assert.is(choose({ GPUGRAD_DEVICE: 'wasm', GPUGRAD_WASM_THREADS: '1', GPUGRAD_WASM_FMA: '0' }).info, 'wasm: WebAssembly SIMD128, 1 thread');
  assert.is(choose({ GPUGRAD_DEVICE: 'wasm', GPUGRAD_WASM_THREADS: '3', GPUGRAD_WASM_FMA: '0' }).info, 'wasm: WebAssembly SIMD128, 3 threads');
  assert.is(choose({ GPUGRAD_DEVICE: 'cpu' }).device, 'cpu');
  const bad = spawnSync(process.execPath, ['--input-type=module', '-e',
    `await import(${JSON.stringify(pathToFileURL(resolve(process.env.GPUGRAD_DIST ?? 'dist', 'src/index.js')).href)})`],
  { encoding: 'utf8', timeout: 60_000, env: { ...process.env, GPUGRAD_DEVICE: 'wasm', GPUGRAD_WASM_THREADS: 'many' } });
  assert.match(bad.stderr, /GPUGRAD_WASM_THREADS=many is not a thread count/);
});

other('GPUGRAD_WASM_FMA: 1 where the engine lacks relaxed SIMD, or a bad value, fails clearly when the device starts', () => {
  const start = (env: Record<string, string>) => spawnSync(process.execPath, ['--input-type=module', '-e',
    `await import(${JSON.stringify(pathToFileURL(resolve(process.env.GPUGRAD_DIST ?? 'dist', 'src/index.js')).href)})`],
  { encoding: 'utf8', timeout: 60_000, env: { ...process.env, GPUGRAD_DEVICE: 'wasm', ...env } });
  assert.match(start({ GPUGRAD_WASM_FMA: 'yes' }).stderr, /GPUGRAD_WASM_FMA=yes is not 0 or 1/);
  const forced = start({ GPUGRAD_WASM_FMA: '1' });
  if (relaxedSimdSupported()) assert.is(forced.status, 0, forced.stderr);
  else assert.match(forced.stderr, /relaxed SIMD \(FMA\) was asked for.*--experimental-wasm-relaxed-simd/);
});

test.run();
