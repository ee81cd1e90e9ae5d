/**
 * The CPU backend's fast paths (src/kernels/cpu/fast.ts) against its reference loops, in one process:
 *   node scripts/build.mjs && GPUGRAD_DEVICE=cpu node $GPUGRAD_DIST/bench/cpu-backend.js [--reps 7] [--no-hessian]
 * "before" is `fastPaths.enabled = false` (the reference loops, the code the backend had before the fast paths);
 * "after" is the default. Micro-benchmarks call the backend directly (kernel time, no tensor bookkeeping) and report
 * the median of `reps` runs, alternating before/after so that load from other processes hits both alike; outputs are
 * compared first (they must be bit-identical). The Hessian is the minimal-ratio experiment's: the float64 Hessian of the
 * 571-parameter MLP [1, 5, 10, 10, 10, 10, 10, 5, 1] on 500 points, through `ensembleHessian` (one model).
 */
import * as g from '../src/index.js';
import type { TypedArray, View } from '../src/kernels/backend.js';
import { CpuBackend, CpuStorage } from '../src/kernels/cpu/backend.js';
import { fastPaths } from '../src/kernels/cpu/fast.js';
import { contiguousStrides } from '../src/core/shape.js';

const args = process.argv.slice(2);
const reps = Number(args[args.indexOf('--reps') + 1] ?? 7) || 7;
const cpu = new CpuBackend();
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];

function rand(n: number, seed: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => Math.sin((i + 1) * 12.9898 + seed * 78.233) * 2);
}
function view(data: TypedArray, shape: number[], strides = contiguousStrides(shape), offset = 0): View {
  const dtype = data instanceof Float64Array ? 'float64' : data instanceof Int32Array ? 'int32' : 'float32';
  return { storage: new CpuStorage(cpu, data, dtype), shape, strides, offset };
}
const read = (s: unknown) => (s as CpuStorage).data;

const a500 = rand(5000, 1), b500 = rand(5000, 2), bias10 = rand(10, 3), w10 = rand(100, 4);
const big = rand(571 * 571, 5), big2 = rand(571 * 571, 6);
const f32 = Float32Array.from(rand(1 << 20, 7)), f32b = Float32Array.from(rand(1 << 20, 8));
const cases: [string, () => unknown][] = [
  ['add f64 [500,10]+[500,10]', () => cpu.binary('add', view(a500, [500, 10]), view(b500, [500, 10]), [500, 10])],
  ['add f64 [500,10]+bias[10]', () => cpu.binary('add', view(a500, [500, 10]), view(bias10, [500, 10], [0, 1]), [500, 10])],
  ['mul f64 [500,10]·[10,500]ᵀ', () => cpu.binary('mul', view(a500, [500, 10]), view(b500, [500, 10], [1, 500]), [500, 10])],
  ['relu f32 1M', () => cpu.unary('relu', view(f32, [1 << 20]))],
  ['add f32 1M', () => cpu.binary('add', view(f32, [1 << 20]), view(f32b, [1 << 20]), [1 << 20])],
  ['where f64 [500,10]', () => cpu.where(view(a500, [500, 10]), view(b500, [500, 10]), view(bias10, [500, 10], [0, 1]), [500, 10])],
  ['copy f64 [571,571]ᵀ', () => cpu.copy(view(big, [571, 571], [1, 571]))],
  ['sum f64 [571,571] axis 0', () => cpu.reduce('sum', view(big, [571 * 571]).storage, 1, 571, 571)],
  ['max f64 [571,571] axis 1', () => cpu.reduce('max', view(big, [571 * 571]).storage, 571, 571, 1)],
  ['matmul f64 [500,10]·[10,10]ᵀ', () => cpu.matmul(view(a500, [1, 500, 10]), view(w10, [1, 10, 10], [0, 1, 10]), 1, 500, 10, 10)],
  ['matmul f64 [10,500]ᵀ·[500,10]', () => cpu.matmul(view(a500, [1, 10, 500], [0, 1, 10]), view(b500, [1, 500, 10]), 1, 10, 500, 10)],
  ['matmul f64 +bias+relu', () => cpu.matmul(view(a500, [1, 500, 10]), view(w10, [1, 10, 10], [0, 1, 10]), 1, 500, 10, 10,
    { bias: view(bias10, [10]).storage, relu: true })],
  ['matmul f64 571³', () => cpu.matmul(view(big, [1, 571, 571]), view(big2, [1, 571, 571]), 1, 571, 571, 571)],
];

const rows: { name: string; before: number; after: number }[] = [];
const only = args.includes('--only') ? new RegExp(args[args.indexOf('--only') + 1]) : null;
for (const [name, f] of cases) {
  if (only && !only.test(name)) continue;
  const outs = [false, true].map((on) => { fastPaths.enabled = on; return read(f()); });
  const same = outs[0].length === outs[1].length && outs[0].every((v, i) => Object.is(v, outs[1][i]));
  if (!same) console.log(`MISMATCH: ${name}`);
  // each timed run repeats the call until it has taken 20 ms or more (sub-millisecond calls are too noisy alone)
  const calls = [false, true].map((on) => {
    fastPaths.enabled = on;
    const t0 = performance.now();
    f();
    return Math.max(1, Math.ceil(20 / Math.max(performance.now() - t0, 1e-3)));
  });
  const times: [number[], number[]] = [[], []];
  for (let r = 0; r < reps; r++) {
    for (const on of [false, true]) {
      fastPaths.enabled = on;
      const n = calls[on ? 1 : 0];
      const t0 = performance.now();
      for (let c = 0; c < n; c++) f();
      times[on ? 1 : 0].push((performance.now() - t0) / n);
    }
  }
  rows.push({ name, before: median(times[0]), after: median(times[1]) });
}
fastPaths.enabled = true;

/** The minimal-ratio experiment's float64 Hessian (571 × 571) of one MLP on 500 points: wall and CPU milliseconds. */
async function hessianTimes(): Promise<{ wall: number; cpu: number }> {
  const P = 500;
  const xs = Float64Array.from({ length: P }, (_, i) => -5 + (10 * i) / (P - 1));
  const o = { shape: [P, 1], device: 'cpu' as const, dtype: 'float64' as const };
  const x = g.tensor(xs, o), y = g.tensor(xs.map((v) => Math.sin(5 * Math.PI * v) / (5 * Math.PI * v)), o);
  const ens = new g.MLPEnsemble(1, [1, 5, 10, 10, 10, 10, 10, 5, 1], { device: 'cpu', dtype: 'float64', generators: [new g.Generator(0)] });
  const t0 = performance.now(), c0 = process.cpuUsage();
  const H = g.ensembleHessian(() => g.ensembleMSE(ens.forward(x), y).sum(), ens.parameters());
  await H.data();
  const c = process.cpuUsage(c0);
  const s = { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
  for (const t of [x, y, H, ...ens.parameters()]) t.dispose();
  return s;
}
if (!args.includes('--no-hessian')) {
  // two runs each, alternating; CPU time (this process's) as well as wall time, as other processes share the machine
  const runs: [{ wall: number; cpu: number }[], { wall: number; cpu: number }[]] = [[], []];
  for (const on of [true, false, true, false]) {
    fastPaths.enabled = on;
    runs[on ? 1 : 0].push(await hessianTimes());
  }
  fastPaths.enabled = true;
  const best = (rs: { wall: number; cpu: number }[], k: 'wall' | 'cpu') => Math.min(...rs.map((r) => r[k]));
  rows.push({ name: 'Hessian f64 571², 500 pts, wall', before: best(runs[0], 'wall'), after: best(runs[1], 'wall') });
  rows.push({ name: 'Hessian f64 571², 500 pts, CPU time', before: best(runs[0], 'cpu'), after: best(runs[1], 'cpu') });
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(3)} ms`);
console.log(`\nCPU backend, reference loops (before) vs fast paths (after); median of ${reps} (Hessian: best of two runs each)`);
console.log(`${'case'.padEnd(36)} ${'before'.padStart(11)} ${'after'.padStart(11)} ${'speedup'.padStart(8)}`);
for (const r of rows) {
  console.log(`${r.name.padEnd(36)} ${fmt(r.before).padStart(11)} ${fmt(r.after).padStart(11)} ${(r.before / r.after).toFixed(1).padStart(7)}×`);
}
g.shutdown();
