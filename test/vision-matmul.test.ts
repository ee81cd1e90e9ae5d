/** matmul: every kernel variant against the CPU on odd shapes, transposed and offset views, broadcast batches; the
 * fused linear layer (bias + ReLU epilogue) and its gradients. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { forceVariant, kernelVariants } from '../src/kernels/webgpu/vision.js';
import { compareDevices, g, randomArray, sizeOf } from './helpers.js';

type T = g.Tensor;
interface Case { a: number[]; b: number[]; f: (a: T, b: T) => T; what: string }
const cases: Case[] = [
  { a: [5, 7], b: [7, 3], f: (a, b) => a.matmul(b), what: 'odd sizes' },
  { a: [1, 1], b: [1, 1], f: (a, b) => a.matmul(b), what: '1×1' },
  { a: [3, 0], b: [0, 4], f: (a, b) => a.matmul(b), what: 'K = 0' },
  { a: [16, 12], b: [12, 8], f: (a, b) => a.matmul(b), what: 'aligned (vec4 along k and n)' },
  { a: [20, 16], b: [10, 16], f: (a, b) => a.matmul(b.T), what: 'x·Wᵀ (B contiguous along k)' },
  { a: [12, 16], b: [12, 20], f: (a, b) => a.T.matmul(b), what: 'xᵀ·dy (A contiguous along m)' },
  { a: [8, 12], b: [8, 20], f: (a, b) => a.T.matmul(b), what: 'A along m, M and N not multiples of 8' },
  { a: [33, 40], b: [40, 24], f: (a, b) => a.matmul(b), what: 'an 8×8 grid with a partial last row of tiles' },
  { a: [8, 13], b: [13, 8], f: (a, b) => a.slice(1, 1, 13).matmul(b.slice(0, 1, 13)), what: 'offset views (unaligned)' },
  { a: [2, 3, 8, 12], b: [12, 20], f: (a, b) => a.matmul(b), what: 'broadcast batch' },
  { a: [70, 33], b: [33, 130], f: (a, b) => a.matmul(b), what: 'several 64×64 tiles, partial edges' },
  { a: [2, 1000], b: [1000, 3], f: (a, b) => a.matmul(b), what: 'long K, tiny output (split-K)' },
  { a: [64, 256], b: [10, 256], f: (a, b) => a.matmul(b.T), what: 'linear 256→10' },
];

for (const variant of kernelVariants.matmul) {
  test(`matmul matches the CPU (variant ${variant})`, async () => {
    forceVariant('matmul', variant);
    try {
      for (const [i, c] of cases.entries()) {
        await compareDevices(`matmul ${c.what}`, [
          { data: randomArray(sizeOf(c.a), 40 + i), shape: c.a }, { data: randomArray(sizeOf(c.b), 60 + i), shape: c.b },
        ], c.f, { atol: 1e-4, rtol: 1e-4 });
      }
      await compareDevices('fusedLinear bias+relu', [
        { data: randomArray(7 * 12, 1), shape: [7, 12] }, { data: randomArray(9 * 12, 2), shape: [9, 12] },
        { data: randomArray(9, 3), shape: [9] },
      ], (x, w, b) => [g.fusedLinear(x, w, b, { relu: true }), g.fusedLinear(x, w, b), g.fusedLinear(x, w)], { atol: 1e-5 });
    } finally {
      forceVariant('matmul', null);
    }
  });
}

test('fusedLinear equals relu(x·Wᵀ + b) with the same gradients (gradcheck, gradgradcheck)', async () => {
  const f64 = (shape: number[], seed: number) =>
    g.tensor(Float64Array.from(randomArray(sizeOf(shape), seed)), { shape, dtype: 'float64', device: 'cpu', requiresGrad: true });
  const x = f64([2, 3, 5], 1), w = f64([4, 5], 2), b = f64([4], 3);
  const fused = g.fusedLinear(x, w, b, { relu: true });
  const plain = x.matmul(w.T).add(b).relu();
  assert.equal(Array.from(await fused.data()).map((v) => v.toFixed(12)), Array.from(await plain.data()).map((v) => v.toFixed(12)));
  assert.ok(await g.gradcheck((x, w, b) => g.fusedLinear(x, w, b, { relu: true }), [x, w, b]));
  assert.ok(await g.gradgradcheck((x, w, b) => g.fusedLinear(x, w, b), [x, w, b]));
});

test.run();
