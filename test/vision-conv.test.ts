/** conv2d and its two backward ops: every WGSL variant against the CPU reference (forward, first and second
 * derivatives), gradients by finite differences. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { forceVariant, kernelVariants } from '../src/kernels/webgpu/vision.js';
import { conv2dGeometry } from '../src/tensor/ops/conv.js';
import { g, randomArray, sizeOf, testOp, throwsGpugrad } from './helpers.js';

interface Case { x: number[]; w: number[]; opts?: g.Conv2dOptions; bias?: boolean }
const cases: Case[] = [
  { x: [2, 3, 7, 9], w: [5, 3, 3, 3], bias: true }, // odd sizes, channels not a multiple of 4
  { x: [1, 1, 12, 12], w: [10, 1, 3, 3], bias: true }, // batch 1, one input channel (MNIST CNN-A's first layer)
  { x: [2, 4, 8, 8], w: [6, 4, 3, 3], opts: { padding: 1 }, bias: true },
  { x: [3, 5, 9, 7], w: [7, 5, 3, 2], opts: { stride: 2, padding: [1, 0] } },
  { x: [2, 4, 10, 10], w: [6, 2, 3, 3], opts: { groups: 2, dilation: 2, padding: 2 }, bias: true },
  { x: [1, 3, 5, 6], w: [9, 3, 5, 5], opts: { padding: 2, stride: [2, 1] } },
  { x: [2, 6, 6, 6], w: [6, 1, 3, 3], opts: { groups: 6, padding: 1 } }, // depthwise
  { x: [2, 5, 6, 6], w: [33, 5, 3, 3], opts: { padding: 1, stride: 2 }, bias: true }, // wide: the 8-channel tiles
  { x: [1, 2, 4, 4], w: [3, 2, 4, 4] }, // kernel = input: one output pixel
  { x: [2, 9, 11, 17], w: [4, 9, 3, 3], opts: { stride: [3, 2], padding: 1 } }, // rows longer than the pixel tile
];

const tol = { atol: 2e-4, rtol: 2e-4 };
const gradTol = { atol: 1e-3, rtol: 1e-3 };

// Each forward variant is paired with a backward-input variant (cycling), so every variant of both runs the cases.
const nVariants = Math.max(kernelVariants.conv2d.length, kernelVariants.conv2dBackwardInput.length);
for (let v = 0; v < nVariants; v++) {
  const fwd = kernelVariants.conv2d[v % kernelVariants.conv2d.length];
  const bwdIn = kernelVariants.conv2dBackwardInput[v % kernelVariants.conv2dBackwardInput.length];
  test(`conv2d forward and both backward ops match the CPU (variants ${fwd}, ${bwdIn})`, async () => {
    forceVariant('conv2d', fwd);
    forceVariant('conv2dBackwardInput', bwdIn);
    try {
      for (const [i, c] of cases.entries()) {
        const geom = conv2dGeometry(c.x, c.w, c.opts);
        const yShape = [geom.batch, geom.outC, geom.outH, geom.outW];
        const inputs = [
          { data: randomArray(sizeOf(c.x), 100 + i), shape: c.x },
          { data: randomArray(sizeOf(c.w), 200 + i), shape: c.w },
          { data: randomArray(sizeOf(yShape), 300 + i), shape: yShape },
          { data: randomArray(c.w[0], 400 + i), shape: [c.w[0]] },
        ];
        // the derivatives run conv2d's rule (the two backward ops) and theirs (the other conv ops), in these variants
        await testOp(`conv2d case ${i} ${JSON.stringify(c)}`, inputs, (x, w, gy, b) => [
          g.conv2d(x, w, c.bias ? b : null, c.opts),
          g.conv2dBackwardInput(gy, w, geom),
          g.conv2dBackwardWeight(x, gy, geom),
        ], { forward: tol, backward: gradTol });
      }
    } finally {
      forceVariant('conv2d', null);
      forceVariant('conv2dBackwardInput', null);
    }
  });
}

test('conv2d of an empty batch gives empty outputs and a zero weight gradient', async () => {
  const geom = conv2dGeometry([0, 2, 5, 5], [3, 2, 3, 3]);
  await testOp('empty batch', [
    { data: [], shape: [0, 2, 5, 5] }, { data: randomArray(54, 1), shape: [3, 2, 3, 3] }, { data: [], shape: [0, 3, 3, 3] },
  ], (x, w, gy) => [g.conv2d(x, w), g.conv2dBackwardInput(gy, w, geom), g.conv2dBackwardWeight(x, gy, geom)]);
});

test('conv2d reads non-contiguous inputs (a permuted view)', async () => {
  await testOp('conv2d of a view', [
    { data: randomArray(2 * 3 * 5 * 6, 1), shape: [2, 5, 6, 3] }, { data: randomArray(4 * 3 * 9, 2), shape: [4, 3, 3, 3] },
  ], (x, w) => g.conv2d(x.permute(0, 3, 1, 2), w, null, { padding: 1 }), { forward: tol, backward: gradTol });
});

const f64 = (shape: number[], seed: number) =>
  g.tensor(Float64Array.from(randomArray(sizeOf(shape), seed)), { shape, dtype: 'float64', device: 'cpu', requiresGrad: true });

test('gradcheck: conv2d with respect to input, weight and bias (padding, stride 2, groups)', async () => {
  const configs: Case[] = [
    { x: [2, 2, 5, 5], w: [3, 2, 3, 3], opts: { padding: 1, stride: 2 } },
    { x: [1, 4, 4, 5], w: [4, 2, 2, 3], opts: { groups: 2, dilation: [1, 2], padding: [0, 1] } },
  ];
  for (const [i, c] of configs.entries()) {
    const x = f64(c.x, 10 + i), w = f64(c.w, 20 + i), b = f64([c.w[0]], 30 + i);
    assert.ok(await g.gradcheck((x, w, b) => g.conv2d(x, w, b, c.opts), [x, w, b]));
  }
});

test('gradgradcheck: conv2d (its backward ops are differentiable too)', async () => {
  const x = f64([1, 2, 4, 4], 1), w = f64([2, 2, 3, 3], 2);
  assert.ok(await g.gradgradcheck((x, w) => g.conv2d(x, w, null, { padding: 1, stride: 2 }), [x, w]));
});

test('the input gradient of a small CNN matches finite differences', async () => {
  const x = f64([1, 1, 6, 6], 5), w = f64([2, 1, 3, 3], 6);
  w.requiresGrad = false;
  assert.ok(await g.gradcheck((x) => g.conv2d(x, w, null, { padding: 1 }).relu().sum(), [x]));
});

test('conv2d shape errors say what is wrong', () => {
  const x = g.zeros([1, 3, 4, 4], { device: 'cpu' });
  throwsGpugrad(() => g.conv2d(x, g.zeros([2, 3, 5, 5], { device: 'cpu' })), /larger than the padded input.*pad more/, 'kernel too big');
  throwsGpugrad(() => g.conv2d(x, g.zeros([2, 4, 3, 3], { device: 'cpu' })), /3 channels but weight .* expects 4/, 'channel mismatch');
  throwsGpugrad(() => g.conv2d(x, g.zeros([2, 3, 3, 3], { device: 'cpu' }), null, { groups: 2 }), /groups=2 must divide/, 'groups');
  throwsGpugrad(() => g.conv2d(g.zeros([3, 4, 4], { device: 'cpu' }), g.zeros([2, 3, 3, 3], { device: 'cpu' })), /\[N, C, H, W\]/, 'rank');
  throwsGpugrad(() => g.conv2d(x, g.zeros([2, 3, 3, 3], { device: 'cpu' }), g.zeros([3], { device: 'cpu' })), /bias must be \[2\]/, 'bias');
  throwsGpugrad(() => g.conv2d(x, g.zeros([2, 3, 3, 3], { device: 'cpu' }), null, { stride: 0 }), /stride must be an integer ≥ 1/, 'stride');
});

test.run();
