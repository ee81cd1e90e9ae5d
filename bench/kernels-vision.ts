/**
 * Micro-benchmarks of gpugrad's vision kernels and matmul variants, alone (no TF.js: bench/main.ts does the side-by-side
 * comparison). For tuning: each kernel variant on the experiments' shapes, wall-clock per run after warm-up (one
 * submit and wait per repetition of `inner` back-to-back runs), and GFLOP/s.
 *
 *   node scripts/run-with-gpu.mjs dist/bench/kernels-vision.js [--only <regex>] [--reps n]
 */
import { pathToFileURL } from 'node:url';

type Gg = typeof import('../src/index.js');
type T = InstanceType<Gg['Tensor']>;

/** ms: wall time per run; cpuMs: CPU time per run (all threads); gflops from the wall time. */
export interface KernelTiming { name: string; variant: string; ms: number; cpuMs: number; gflops: number }

export interface ConvShape { name: string; n: number; c: number; o: number; k: number; pad: number; hw: number; stride?: number }

/** The conv layers of the experiments (MNIST CNN-A/B, CIFAR CNN-1/2) at batch 64. */
export const CONV_SHAPES: ConvShape[] = [
  { name: 'CNN-A conv1', n: 64, c: 1, o: 10, k: 3, pad: 0, hw: 28 },
  { name: 'CNN-A conv2', n: 64, c: 10, o: 16, k: 3, pad: 0, hw: 13 },
  { name: 'CNN-B conv1', n: 64, c: 1, o: 32, k: 5, pad: 0, hw: 28 },
  { name: 'CNN-B conv2', n: 64, c: 32, o: 32, k: 5, pad: 0, hw: 24 },
  { name: 'CNN-B conv3', n: 64, c: 32, o: 64, k: 5, pad: 0, hw: 10 },
  { name: 'CNN-1 conv1', n: 64, c: 3, o: 32, k: 3, pad: 1, hw: 32 },
  { name: 'CNN-1 conv2', n: 64, c: 32, o: 32, k: 3, pad: 1, hw: 32 },
  { name: 'CNN-2 conv1', n: 64, c: 3, o: 96, k: 3, pad: 1, hw: 32 },
  { name: 'CNN-2 conv2', n: 64, c: 96, o: 80, k: 3, pad: 1, hw: 16 },
  { name: 'CNN-2 conv3', n: 64, c: 80, o: 96, k: 3, pad: 1, hw: 8 },
  { name: 'CNN-2 conv4', n: 64, c: 96, o: 64, k: 3, pad: 1, hw: 8 },
];

/** The linear layers' matmuls [m, k] · [k, n] (forward, and the two backward products of the batch-64 layers). */
export const MATMUL_SHAPES: { name: string; m: number; k: number; n: number; transA?: boolean; transB?: boolean }[] = [
  { name: 'square 512', m: 512, k: 512, n: 512 },
  { name: 'linear 784→256 b64', m: 64, k: 784, n: 256, transB: true },
  { name: 'linear 784→256 b64 dW', m: 256, k: 64, n: 784, transA: true },
  { name: 'linear 784→256 b64 dX', m: 64, k: 256, n: 784 },
  { name: 'linear 400→512 b64', m: 64, k: 400, n: 512, transB: true },
  { name: 'linear 8192→512 b64', m: 64, k: 8192, n: 512, transB: true },
  { name: 'linear 4096→512 b64', m: 64, k: 4096, n: 512, transB: true },
  { name: 'linear 8192→512 b64 dW', m: 512, k: 64, n: 8192, transA: true },
  { name: 'linear 784→256 b1024', m: 1024, k: 784, n: 256, transB: true },
  { name: 'linear 256→10 b64', m: 64, k: 256, n: 10, transB: true },
];

function rand(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  return Float32Array.from({ length: n }, () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296 - 0.5; });
}

/**
 * Median ms per run of `f` (each run's outputs disposed), `reps` repetitions of `inner` runs after a warm-up: wall
 * time, and the process's CPU time (all threads: on SwiftShader the kernels run on this process's threads, so CPU time
 * per run is the kernel's cost even when other processes share the cores and stretch the wall time).
 */
export async function timeOp(gg: Gg, f: () => T | T[], reps = 5, inner = 3): Promise<{ wall: number; cpu: number }> {
  const once = () => { const r = f(); (Array.isArray(r) ? r : [r]).forEach((t) => t.dispose()); };
  once(); once();
  await gg.sync();
  const walls: number[] = [], cpus: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    for (let i = 0; i < inner; i++) once();
    await gg.sync();
    const c = process.cpuUsage(c0);
    walls.push((performance.now() - t0) / inner);
    cpus.push((c.user + c.system) / 1000 / inner);
  }
  const med = (v: number[]) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return { wall: med(walls), cpu: med(cpus) };
}

type Dir = 'fwd' | 'bwd-in' | 'bwd-w';

/** conv2d forward / backward-input / backward-weight on `shapes`, for each forced variant (null: the heuristic's pick). */
export async function benchConv(gg: Gg, shapes = CONV_SHAPES, variants: (string | null)[] = [null], reps = 5,
  dirs: Dir[] = ['fwd', 'bwd-in', 'bwd-w']): Promise<KernelTiming[]> {
  const { forceVariant, kernelVariants } = await import('../src/kernels/webgpu/vision.js');
  const out: KernelTiming[] = [];
  for (const s of shapes) {
    const stride = s.stride ?? 1;
    const x = gg.tensor(rand(s.n * s.c * s.hw * s.hw, 1), { shape: [s.n, s.c, s.hw, s.hw] });
    const w = gg.tensor(rand(s.o * s.c * s.k * s.k, 2), { shape: [s.o, s.c, s.k, s.k] });
    const b = gg.tensor(rand(s.o, 3), { shape: [s.o] });
    const geom = gg.conv2dGeometry(x.shape, w.shape, { padding: s.pad, stride });
    const gy = gg.tensor(rand(s.n * s.o * geom.outH * geom.outW, 4), { shape: [s.n, s.o, geom.outH, geom.outW] });
    const flops = 2 * s.n * s.o * geom.outH * geom.outW * s.c * s.k * s.k;
    for (const v of variants) {
      for (const d of dirs) {
        // a variant name belongs to one kernel: force it there, and skip the directions it does not apply to
        const kernel = d === 'fwd' ? 'conv2d' : d === 'bwd-in' ? 'conv2dBackwardInput' : 'conv2dBackwardWeight';
        const own = (kernelVariants as Record<string, readonly string[]>)[kernel] ?? [];
        if (v !== null && !own.includes(v)) continue;
        forceVariant(kernel as never, v as never);
        const f = d === 'fwd' ? () => gg.conv2d(x, w, b, { padding: s.pad, stride })
          : d === 'bwd-in' ? () => gg.conv2dBackwardInput(gy, w, geom) : () => gg.conv2dBackwardWeight(x, gy, geom);
        const t = await timeOp(gg, f, reps);
        out.push({ name: `conv2d ${d} ${s.name} ${s.c}→${s.o} k${s.k}${s.pad ? ` p${s.pad}` : ''} ${s.hw}² b${s.n}`, variant: v ?? 'auto',
          ms: t.wall, cpuMs: t.cpu, gflops: flops / t.wall / 1e6 });
        forceVariant(kernel as never, null);
      }
    }
    [x, w, b, gy].forEach((t) => t.dispose());
  }
  return out;
}

/** matmul on the linear layers' shapes, for each forced variant (null: the heuristic's pick). */
export async function benchMatmul(gg: Gg, shapes = MATMUL_SHAPES, variants: (string | null)[] = [null], reps = 5): Promise<KernelTiming[]> {
  const { forceVariant } = await import('../src/kernels/webgpu/vision.js');
  const out: KernelTiming[] = [];
  for (const s of shapes) {
    const a0 = gg.tensor(rand(s.m * s.k, 5), { shape: s.transA ? [s.k, s.m] : [s.m, s.k] });
    const b0 = gg.tensor(rand(s.k * s.n, 6), { shape: s.transB ? [s.n, s.k] : [s.k, s.n] });
    const a = s.transA ? a0.T : a0, b = s.transB ? b0.T : b0;
    for (const v of variants) {
      forceVariant('matmul' as never, v as never);
      const t = await timeOp(gg, () => gg.matmul(a, b), reps);
      out.push({ name: `matmul ${s.name} [${s.m}×${s.k}]·[${s.k}×${s.n}]`, variant: v ?? 'auto',
        ms: t.wall, cpuMs: t.cpu, gflops: (2 * s.m * s.k * s.n) / t.wall / 1e6 });
    }
    forceVariant('matmul' as never, null);
    [a0, b0].forEach((t) => t.dispose());
  }
  return out;
}

export function formatTimings(rows: KernelTiming[]): string {
  const w = Math.max(...rows.map((r) => r.name.length));
  return rows.map((r) => `${r.name.padEnd(w)}  ${r.variant.padEnd(8)} ${r.ms.toFixed(2).padStart(9)} ms wall ${r.cpuMs.toFixed(2).padStart(9)} ms cpu ${r.gflops.toFixed(2).padStart(7)} GFLOP/s`).join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? new RegExp(args[args.indexOf('--only') + 1], 'i') : null;
  const reps = args.includes('--reps') ? Number(args[args.indexOf('--reps') + 1]) : 5;
  const variantArg = args.includes('--variants') ? args[args.indexOf('--variants') + 1].split(',').map((v) => (v === 'auto' ? null : v)) : [null];
  const gg = await import('../src/index.js');
  if (!gg.hasWebGPU()) throw new Error('no WebGPU adapter');
  gg.setDevice('webgpu');
  console.log(gg.deviceInfo());
  const convs = CONV_SHAPES.filter((s) => !only || only.test(`conv ${s.name}`));
  const mms = MATMUL_SHAPES.filter((s) => !only || only.test(`matmul ${s.name}`));
  const dirs = (args.includes('--dirs') ? args[args.indexOf('--dirs') + 1].split(',') : ['fwd', 'bwd-in', 'bwd-w']) as Dir[];
  for (const s of convs) console.log(formatTimings(await benchConv(gg, [s], variantArg, reps, dirs)));
  for (const s of mms) console.log(formatTimings(await benchMatmul(gg, [s], variantArg, reps)));
  gg.shutdown();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
