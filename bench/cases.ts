/**
 * What a kernel benchmark is, and the core kernels' cases: matmul (square and the models' linear layers), elementwise
 * add and ReLU, sum reductions, and the Adam update. The vision kernels' cases live in vision.ts.
 *
 * A case builds, for each library, a `Side`: `run()` records one repetition of the op on the GPU and releases what it
 * made (it must not wait); `output()` computes the op once and reads the result back, so the two libraries' answers
 * can be compared before anything is timed. Both sides get the same input numbers.
 */
import type { Tf } from './tfjs.js';

export type Gg = typeof import('../src/index.js');

/** quick ⊂ default ⊂ full; 'gpu' cases only run on a real GPU (they would take minutes on SwiftShader). */
export type Tier = 'quick' | 'default' | 'full' | 'gpu';
export const TIERS: Tier[] = ['quick', 'default', 'full', 'gpu'];

export interface Side {
  run(): void;
  output?(): Promise<ArrayLike<number>>;
  dispose(): void;
}

export interface Ctx { gg: Gg; tf: Tf | null }

export interface BenchCase {
  group: string;
  name: string;
  tier: Tier;
  /** floating-point operations per run (multiply-add = 2), for GFLOP/s */
  flops?: number;
  /** the fewest bytes a run must move (each input read once, each output written once), for GB/s */
  bytes?: number;
  /** largest allowed ‖gpugrad − tfjs‖∞ / ‖tfjs‖∞ when both outputs are read */
  tol?: number;
  /** what the two sides do differently, printed under the table */
  note?: string;
  gpugrad(ctx: Ctx): Side | string;
  tfjs?(ctx: Ctx & { tf: Tf }): Side | string;
}

/** Deterministic uniform numbers in [lo, hi) (xorshift32: fast enough for tens of millions). */
export function randomData(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = lo + (hi - lo) * (s / 4294967296);
  }
  return out;
}

export function randomLabels(n: number, classes: number, seed: number): Int32Array {
  return Int32Array.from(randomData(n, seed, 0, classes), (x) => Math.min(classes - 1, Math.floor(x)));
}

type GgTensor = InstanceType<Gg['Tensor']>;

/** A gpugrad side from inputs and an op; the op's result is disposed after each run. */
export function ggSide(inputs: GgTensor[], op: () => GgTensor | GgTensor[]): Side {
  const drop = (r: GgTensor | GgTensor[]) => (Array.isArray(r) ? r : [r]).forEach((t) => t.dispose());
  return {
    run: () => drop(op()),
    async output() {
      const r = op();
      const first = Array.isArray(r) ? r[0] : r;
      const d = await first.data();
      drop(r);
      return d;
    },
    dispose: () => inputs.forEach((t) => t.dispose()),
  };
}

type TfTensor = import('@tensorflow/tfjs').Tensor;

export function tfSide(tf: Tf, inputs: TfTensor[], op: () => TfTensor | TfTensor[]): Side {
  const drop = (r: TfTensor | TfTensor[]) => (Array.isArray(r) ? r : [r]).forEach((t) => t.dispose());
  return {
    run: () => drop(tf.tidy(op)),
    async output() {
      const r = tf.tidy(op);
      const first = Array.isArray(r) ? r[0] : r;
      const d = await first.data();
      drop(r);
      return d as Float32Array;
    },
    dispose: () => inputs.forEach((t) => t.dispose()),
  };
}

// ---- matmul ---------------------------------------------------------------------------------------------------------

function matmulCase(m: number, k: number, n: number, tier: Tier, label: string, transB = false): BenchCase {
  const A = randomData(m * k, 1), B = randomData(k * n, 2);
  const bShape = transB ? [n, k] : [k, n];
  return {
    group: 'matmul',
    name: label,
    tier,
    flops: 2 * m * k * n,
    tol: 1e-4,
    gpugrad({ gg }) {
      const a = gg.tensor(A, { shape: [m, k] }), b = gg.tensor(B, { shape: bShape });
      const bt = transB ? b.transpose() : b;
      return ggSide([a, b, bt], () => gg.matmul(a, bt));
    },
    tfjs({ tf }) {
      const a = tf.tensor2d(A, [m, k]), b = tf.tensor2d(B, bShape as [number, number]);
      return tfSide(tf, [a, b], () => tf.matMul(a, b, false, transB));
    },
  };
}

export function matmulCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  const square: [number, Tier][] = [[128, 'quick'], [256, 'quick'], [512, 'default'], [1024, 'full'], [2048, 'full'], [4096, 'gpu']];
  for (const [s, tier] of square) cases.push(matmulCase(s, s, s, tier, `matmul ${s}×${s}×${s}`));
  // the models' linear layers, forward: x [batch, in] · Wᵀ with W stored [out, in] as nn.Linear does
  const layers: [number, number][] = [[784, 256], [400, 512], [8192, 512], [4096, 512]];
  for (const batch of [64, 1024]) {
    for (const [i, o] of layers) {
      // on SwiftShader TF.js needs 5-40 s for one of the big ones: those run with --full (always on a real GPU)
      const tier: Tier = batch === 1024 || i === 8192 ? 'full' : i === 400 ? 'quick' : 'default';
      cases.push(matmulCase(batch, i, o, tier, `linear ${i}→${o} batch ${batch}`, true));
    }
  }
  return cases;
}

// ---- elementwise and reductions -------------------------------------------------------------------------------------

const MI = 1 << 20;

export function elementwiseCases(): BenchCase[] {
  const X = randomData(MI, 3), Y = randomData(MI, 4), bias = randomData(1024, 5);
  return [
    {
      group: 'elementwise', name: 'add 1M (1024×1024)', tier: 'quick', bytes: 3 * 4 * MI, tol: 1e-6,
      gpugrad({ gg }) {
        const x = gg.tensor(X, { shape: [1024, 1024] }), y = gg.tensor(Y, { shape: [1024, 1024] });
        return ggSide([x, y], () => gg.add(x, y));
      },
      tfjs({ tf }) {
        const x = tf.tensor2d(X, [1024, 1024]), y = tf.tensor2d(Y, [1024, 1024]);
        return tfSide(tf, [x, y], () => tf.add(x, y));
      },
    },
    {
      group: 'elementwise', name: 'add bias 1024×1024 + [1024]', tier: 'default', bytes: 2 * 4 * MI + 4 * 1024, tol: 1e-6,
      gpugrad({ gg }) {
        const x = gg.tensor(X, { shape: [1024, 1024] }), b = gg.tensor(bias, { shape: [1024] });
        return ggSide([x, b], () => gg.add(x, b));
      },
      tfjs({ tf }) {
        const x = tf.tensor2d(X, [1024, 1024]), b = tf.tensor1d(bias);
        return tfSide(tf, [x, b], () => tf.add(x, b));
      },
    },
    {
      group: 'elementwise', name: 'relu 1M', tier: 'quick', bytes: 2 * 4 * MI, tol: 0,
      gpugrad({ gg }) {
        const x = gg.tensor(X, { shape: [MI] });
        return ggSide([x], () => gg.relu(x));
      },
      tfjs({ tf }) {
        const x = tf.tensor1d(X);
        return tfSide(tf, [x], () => tf.relu(x));
      },
    },
    {
      group: 'reduce', name: 'sum 1M → scalar', tier: 'quick', bytes: 4 * MI, tol: 1e-4,
      gpugrad({ gg }) {
        const x = gg.tensor(X, { shape: [MI] });
        return ggSide([x], () => gg.sum(x));
      },
      tfjs({ tf }) {
        const x = tf.tensor1d(X);
        return tfSide(tf, [x], () => tf.sum(x));
      },
    },
    {
      group: 'reduce', name: 'sum rows 1024×1024 → 1024', tier: 'default', bytes: 4 * (MI + 1024), tol: 1e-4,
      gpugrad({ gg }) {
        const x = gg.tensor(X, { shape: [1024, 1024] });
        return ggSide([x], () => gg.sum(x, 1));
      },
      tfjs({ tf }) {
        const x = tf.tensor2d(X, [1024, 1024]);
        return tfSide(tf, [x], () => tf.sum(x, 1));
      },
    },
    {
      group: 'reduce', name: 'sum columns 1024×1024 → 1024', tier: 'default', bytes: 4 * (MI + 1024), tol: 1e-4,
      gpugrad({ gg }) {
        const x = gg.tensor(X, { shape: [1024, 1024] });
        return ggSide([x], () => gg.sum(x, 0));
      },
      tfjs({ tf }) {
        const x = tf.tensor2d(X, [1024, 1024]);
        return tfSide(tf, [x], () => tf.sum(x, 0));
      },
    },
  ];
}

// ---- Adam -----------------------------------------------------------------------------------------------------------

export function adamCase(): BenchCase {
  const n = MI, P = randomData(n, 6), G = randomData(n, 7);
  const hp = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  return {
    group: 'optim',
    name: 'Adam update 1M params',
    tier: 'quick',
    // read param, grad, m, v; write param, m, v
    bytes: 7 * 4 * n,
    note: 'Adam: gpugrad runs its fused kernel (backend.adam); TF.js runs tf.train.adam().applyGradients (several kernels)',
    tol: 1e-5,
    gpugrad({ gg }) {
      const g = gg.tensor(G);
      const fresh = () => [gg.tensor(P), gg.zeros([n]), gg.zeros([n])];
      const [p, m, v] = fresh();
      const update = (p: typeof g, m: typeof g, v: typeof g, t: number) => p.storage.backend.adam(p.storage, g.storage, m.storage, v.storage,
        { ...hp, weightDecay: 0, bc1: 1 - hp.beta1 ** t, bc2: 1 - hp.beta2 ** t });
      let t = 0;
      return {
        run: () => update(p, m, v, ++t),
        async output() { // the parameters after one step from the same start as TF.js's
          const [p1, m1, v1] = fresh();
          update(p1, m1, v1, 1);
          const d = await p1.data();
          [p1, m1, v1].forEach((x) => x.dispose());
          return d;
        },
        dispose: () => [p, g, m, v].forEach((x) => x.dispose()),
      };
    },
    tfjs({ tf }) {
      const g = tf.tensor1d(G);
      const fresh = () => [tf.variable(tf.tensor1d(P)), tf.train.adam(hp.lr, hp.beta1, hp.beta2, hp.eps)] as const;
      const [p, opt] = fresh();
      return {
        run: () => opt.applyGradients([{ name: p.name, tensor: g }]),
        async output() {
          const [p1, o1] = fresh();
          o1.applyGradients([{ name: p1.name, tensor: g }]);
          const d = await p1.data();
          o1.dispose(); p1.dispose();
          return d as Float32Array;
        },
        dispose() { opt.dispose(); p.dispose(); g.dispose(); },
      };
    },
  };
}
