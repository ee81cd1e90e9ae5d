/**
 * Shared by the autograd/nn/optim tests: the Homework-1 MLP (1-5-10-10-10-10-10-5-1, ReLU: 571 parameters) and its
 * data, sin(5πx)/(5πx) on linspace(-5, 5, n). Built from one seed, so the CPU (float64) and WebGPU (float32) copies
 * start from the same numbers.
 */
import type { DType, DeviceName, Module, Sequential, Tensor } from '../src/index.js';
import { g } from './helpers.js';

export const MLP_SIZES = [1, 5, 10, 10, 10, 10, 10, 5, 1];

export function mlp(device: DeviceName, dtype: DType = device === 'cpu' ? 'float64' : 'float32', seed = 0): Sequential {
  const generator = new g.Generator(seed);
  const layers: Module[] = [];
  for (let i = 0; i < MLP_SIZES.length - 1; i++) {
    layers.push(new g.Linear(MLP_SIZES[i], MLP_SIZES[i + 1], { device, dtype, generator }));
    if (i < MLP_SIZES.length - 2) layers.push(new g.ReLU());
  }
  return new g.Sequential(...layers);
}

export function sincData(n: number, device: DeviceName, dtype: DType = device === 'cpu' ? 'float64' : 'float32') {
  const xs = Float64Array.from({ length: n }, (_, i) => -5 + (10 * i) / (n - 1));
  const ys = xs.map((x) => (x === 0 ? 1 : Math.sin(5 * Math.PI * x) / (5 * Math.PI * x)));
  return { x: g.tensor(xs, { shape: [n, 1], device, dtype }), y: g.tensor(ys, { shape: [n, 1], device, dtype }) };
}

/** A float64 CPU leaf with seeded values in [lo, hi). */
export function leaf64(shape: number[], seed: number, lo = -2, hi = 2): Tensor {
  const gen = new g.Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return g.tensor(Float64Array.from({ length: n }, () => lo + (hi - lo) * gen.random()),
    { shape, dtype: 'float64', device: 'cpu', requiresGrad: true });
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
