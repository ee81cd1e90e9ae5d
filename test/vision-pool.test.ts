/** maxPool2d: forward values and indices, the gather-form backward and its adjoint, against the CPU; PyTorch's tie rule. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { forceVariant, kernelVariants } from '../src/kernels/webgpu/vision.js';
import { pool2dGeometry } from '../src/tensor/ops/pool.js';
import { g, randomArray, sizeOf, testOp, throwsGpugrad } from './helpers.js';

const cases: { x: number[]; k: g.Pair; opts?: g.Pool2dOptions }[] = [
  { x: [2, 3, 8, 8], k: 2 },
  { x: [1, 5, 7, 9], k: 3, opts: { stride: 2 } }, // overlapping windows, odd sizes, floor mode drops the last column
  { x: [2, 2, 6, 5], k: [3, 2], opts: { stride: [1, 2], padding: [1, 1] } },
  { x: [3, 1, 13, 13], k: 2 }, // MNIST CNN-A's pool (13 → 6, the last row and column unused)
  { x: [1, 4, 5, 5], k: 5, opts: { padding: 2, stride: 1 } },
  { x: [2, 3, 7, 8], k: [3, 2] }, // windows tile the input (stride = kernel), a strip left over below
];

for (const variant of kernelVariants.maxPool2dBackward) {
  test(`maxPool2d forward, indices, backward and gather match the CPU (backward ${variant})`, async () => {
    forceVariant('maxPool2dBackward', variant);
    try {
      for (const [i, c] of cases.entries()) {
        const geom = pool2dGeometry(c.x, c.k, c.opts);
        const yShape = [geom.batch, geom.channels, geom.outH, geom.outW];
        // coarse values make ties common: the first maximum in scan order must win on both devices
        const x = randomArray(sizeOf(c.x), 500 + i).map((v) => Math.round(v * 2));
        // and testOp differentiates all three again: maxPool2dBackward, poolGather and their rules once more
        await testOp(`maxPool2d ${JSON.stringify(c)}`, [
          { data: x, shape: c.x }, { data: randomArray(sizeOf(yShape), 600 + i), shape: yShape },
          { data: randomArray(sizeOf(c.x), 700 + i), shape: c.x },
        ], (x, gy, z) => {
          const pool = (t: g.Tensor) => g.maxPool2d(t, c.k, c.opts);
          const dx = g.grad((x) => pool(x).mul(gy).sum(), [x])[0]; // maxPool2dBackward(gy)
          // second order: d/d(gy) of <maxPool2dBackward(gy), z> is poolGather(z)
          const gz = g.grad((gy) => g.grad((x) => pool(x).mul(gy).sum(), [x], { createGraph: true })[0].mul(z).sum(), [gy])[0];
          return [pool(x), dx, gz];
        }, { forward: { atol: 1e-6 }, backward: { atol: 1e-6 } });
      }
    } finally {
      forceVariant('maxPool2dBackward', null);
    }
  });
}

test('maxPool2d ties: the first maximum in scan order wins; padding never wins', async () => {
  for (const device of ['cpu', ...(g.hasWebGPU() ? ['webgpu'] : [])] as g.DeviceName[]) {
    const x = g.tensor([[[[1, 1], [1, 1]]]], { device }).requiresGrad_();
    const y = g.maxPool2d(x, 2);
    y.backward();
    assert.equal(Array.from(await x.grad!.data()), [1, 0, 0, 0], device);
    const neg = g.tensor([[[[-5, -3], [-4, -6]]]], { device });
    assert.equal(Array.from(await g.maxPool2d(neg, 2, { padding: 1, stride: 1 }).data()), [-5, -3, -3, -4, -3, -3, -4, -4, -6], `${device} padding`);
  }
});

test('gradcheck: maxPool2d (distinct values, overlapping windows)', async () => {
  const vals = Float64Array.from({ length: 50 }, (_, i) => Math.sin(i * 1.37) * 3);
  const xt = g.tensor(vals, { shape: [1, 2, 5, 5], dtype: 'float64', device: 'cpu', requiresGrad: true });
  assert.ok(await g.gradcheck((x) => g.maxPool2d(x, 3, { stride: 2, padding: 1 }), [xt]));
  assert.ok(await g.gradgradcheck((x) => g.maxPool2d(x, 2, { stride: 1 }), [xt]));
});

test('maxPool2d shape errors', () => {
  const x = g.zeros([1, 1, 4, 4], { device: 'cpu' });
  throwsGpugrad(() => g.maxPool2d(x, 5), /larger than the padded input/, 'kernel too big');
  throwsGpugrad(() => g.maxPool2d(x, 2, { padding: 2 }), /at most half the kernel size/, 'padding');
  throwsGpugrad(() => g.maxPool2d(g.zeros([4, 4], { device: 'cpu' }), 2), /\[N, C, H, W\]/, 'rank');
});

test.run();
