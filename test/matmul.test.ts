/** matmul: every kernel variant against the CPU on odd shapes, transposed and offset views, broadcast batches; the
 * fused linear layer (bias + ReLU epilogue) and its gradients. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { forceVariant, kernelVariants } from '../src/kernels/webgpu/vision.js';
import { g, randomArray, sizeOf, testOp } from './helpers.js';

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
        // first derivatives: the gradient matmuls, in this variant too (second order: core-ops and fusedLinear below)
        await testOp(`matmul ${c.what}`, [
          { data: randomArray(sizeOf(c.a), 40 + i), shape: c.a }, { data: randomArray(sizeOf(c.b), 60 + i), shape: c.b },
        ], c.f, { forward: { atol: 1e-4, rtol: 1e-4 }, backward: { atol: 3e-4, rtol: 1e-4 }, second: false });
      }
      await testOp('fusedLinear bias+relu', [
        { data: randomArray(7 * 12, 1), shape: [7, 12] }, { data: randomArray(9 * 12, 2), shape: [9, 12] },
        { data: randomArray(9, 3), shape: [9] },
      ], (x, w, b) => [g.fusedLinear(x, w, b, { relu: true }), g.fusedLinear(x, w, b), g.fusedLinear(x, w)],
      { forward: { atol: 1e-5 }, backward: { atol: 1e-4, rtol: 1e-4 } });
      // stacked (an ensemble of 3 layers): shared inputs [B, in] and per-member inputs [N, B, in]; a permuted weight view
      await testOp('stacked fusedLinear', [
        { data: randomArray(7 * 13, 4), shape: [7, 13] }, { data: randomArray(3 * 7 * 13, 5), shape: [3, 7, 13] },
        { data: randomArray(3 * 9 * 13, 6), shape: [3, 9, 13] }, { data: randomArray(3 * 9, 7), shape: [3, 9] },
      ], (xs, xm, w, b) => [g.fusedLinear(xs, w, b, { relu: true }), g.fusedLinear(xm, w, b), g.fusedLinear(xm, w, null, { relu: true }),
        g.fusedLinear(xs, w.permute([0, 2, 1]).contiguous().permute([0, 2, 1]), b)], { forward: { atol: 1e-5 }, backward: { atol: 1e-4, rtol: 1e-4 } });
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

test('stacked fusedLinear: member n is its own layer; gradients by finite differences, twice', async () => {
  const f64 = (shape: number[], seed: number) =>
    g.tensor(Float64Array.from(randomArray(sizeOf(shape), seed)), { shape, dtype: 'float64', device: 'cpu', requiresGrad: true });
  const xs = f64([4, 5], 11), xm = f64([3, 4, 5], 12), w = f64([3, 6, 5], 13), b = f64([3, 6], 14);
  const shared = g.fusedLinear(xs, w, b, { relu: true }), own = g.fusedLinear(xm, w, b);
  for (let n = 0; n < 3; n++) {
    const wn = w.slice(0, n, n + 1).reshape([6, 5]), bn = b.slice(0, n, n + 1).reshape([6]);
    const fix = async (t: g.Tensor) => Array.from(await t.data()).map((v) => v.toFixed(12));
    assert.equal(await fix(shared.slice(0, n, n + 1)), await fix(g.fusedLinear(xs, wn, bn, { relu: true })), `member ${n}, shared inputs`);
    assert.equal(await fix(own.slice(0, n, n + 1)), await fix(g.fusedLinear(xm.slice(0, n, n + 1).reshape([4, 5]), wn, bn)), `member ${n}, own inputs`);
  }
  assert.ok(await g.gradcheck((x, w, b) => g.fusedLinear(x, w, b, { relu: true }), [xs, w, b]));
  assert.ok(await g.gradcheck((x, w, b) => g.fusedLinear(x, w, b, { relu: true }), [xm, w, b]));
  assert.ok(await g.gradgradcheck((x, w, b) => g.fusedLinear(x, w, b), [xs, w, b]));
  assert.ok(await g.gradgradcheck((x, w, b) => g.fusedLinear(x, w, b, { relu: true }), [xm, w, b]));
});

test('stacked fusedLinear: shapes that do not fit are a clear error', () => {
  const w = g.zeros([3, 6, 5]);
  assert.throws(() => g.fusedLinear(g.zeros([2, 4, 5]), w), /takes inputs \[B, 5\] or \[3, B, 5\]/);
  assert.throws(() => g.fusedLinear(g.zeros([4, 5]), w, g.zeros([6])), /bias must be \[3,6\]/);
  assert.throws(() => g.fusedLinear(g.zeros([4, 5]), g.zeros([2, 3, 6, 5])), /weight must be \[out, in\]/);
});

test.run();
