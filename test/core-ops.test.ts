/** Every core op on every device against the CPU float64 reference — forward, first and second derivatives — over
 * random shapes: size 1, odd sizes, broadcasting both ways, sizes that do not divide the workgroup, empty tensors, and
 * more than 65 535 workgroups. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ElementwiseVariant, elementwiseDispatches, forceElementwiseVariant } from '../src/kernels/wgsl/common.js';
import { allDevices, assertClose, compareDevices, g, randomArray, sizeOf, testOp, webgpuAvailable } from './helpers.js';

const unaryOps = ['neg', 'abs', 'sign', 'exp', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'square'] as const;
const positiveOps = ['log', 'sqrt', 'reciprocal'] as const;
const shapes = [[1], [7], [65], [3, 5], [2, 3, 7], [1, 1, 129]];

// WGSL only promises sin/cos to an absolute 2^-11 on [-π, π]; everything else is checked far tighter.
const unaryTol = (op: string) => (op === 'sin' || op === 'cos' ? { atol: 5e-4, rtol: 0 } : { atol: 2e-6, rtol: 2e-5 });
/** Derivatives: the same kernels times cotangents in [-2, 2), one or two products deep. */
const unaryGradTol = (op: string) => (op === 'sin' || op === 'cos' ? { atol: 4e-3, rtol: 0 } : { atol: 1e-5, rtol: 1e-4 });
/** Shapes the vec4 variant takes: last dimension a multiple of 4 (a plain 1-D run, and after collapsing). */
const vec4Shapes = [[4], [8, 12], [3, 4, 16], [2, 1, 1028]];
/** vec4-eligible broadcasts: bias row, column, scalar, a column over a middle dimension, outer-dimension broadcasts. */
const vec4Pairs: [number[], number[]][] = [
  [[8], [8]], [[3, 8], [8]], [[6, 4], [6, 1]], [[], [5, 8]], [[2, 3, 8], [3, 1]], [[4, 1, 8], [1, 3, 8]], [[5, 12], [1]],
];

/**
 * The elementwise kernels' tests, run once per variant ('scalar' forced, and 'vec4' wherever eligible): every variant
 * must pass the same tests, whatever the heuristics would pick for the shapes at hand.
 */
function elementwiseTests(variant: ElementwiseVariant) {
  const ew = (name: string, fn: () => Promise<void>) => test(`${name} [${variant}]`, async () => {
    forceElementwiseVariant(variant);
    try { await fn(); } finally { forceElementwiseVariant(null); }
  });
  for (const op of unaryOps) {
    ew(`unary ${op} matches the CPU on odd shapes`, async () => {
      for (const [i, shape] of [...shapes, ...vec4Shapes].entries()) {
        await testOp(`${op} ${shape}`, [{ data: randomArray(sizeOf(shape), i, -3, 3), shape }], (x) => x[op](),
          { forward: unaryTol(op), backward: unaryGradTol(op) });
      }
    });
  }
  for (const op of positiveOps) {
    ew(`unary ${op} matches the CPU on positive inputs`, async () => {
      for (const [i, shape] of [...shapes, ...vec4Shapes].entries()) {
        await testOp(`${op} ${shape}`, [{ data: randomArray(sizeOf(shape), i, 0.1, 5), shape }], (x) => x[op](),
          { forward: { atol: 1e-6, rtol: 2e-5 }, backward: { atol: 1e-5, rtol: 1e-4 } });
      }
    });
  }

  const binaryOps = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'eq', 'lt', 'gt', 'ne', 'le', 'ge'] as const;
  const pairs: [number[], number[]][] = [
    [[5], [5]], [[3, 1], [1, 4]], [[1], [2, 3]], [[2, 3, 4], [4]], [[4, 1, 3], [1, 5, 1]], [[7, 9], [7, 1]], [[], [3, 2]],
  ];
  for (const op of binaryOps) {
    ew(`binary ${op} broadcasts like NumPy on both sides`, async () => {
      for (const [i, [sa, sb]] of [...pairs, ...vec4Pairs].entries()) {
        const a = randomArray(sizeOf(sa), 10 + i).map((v) => Math.round(v * 2) / 2);
        const b = randomArray(sizeOf(sb), 20 + i).map((v) => Math.round(v * 2) / 2 || 0.5);
        await testOp(`${op} ${sa} ${sb}`, [{ data: a, shape: sa }, { data: b, shape: sb }], (x, y) => x[op](y),
          { forward: { atol: 1e-6, rtol: 1e-5 }, backward: { atol: 1e-5, rtol: 1e-4 } });
      }
    });
  }

  ew('pow handles negative bases with integer exponents and NaN otherwise', async () => {
    const [out] = await compareDevices('pow', [{ data: [-2, -2, 2, 0, 3, -1.5], shape: [6] }, { data: [2, 3, 0.5, 2, -1, 0.5], shape: [6] }],
      (a, b) => a.pow(b), { atol: 1e-6 });
    assertClose(out.slice(0, 5), [4, -8, Math.SQRT2, 0, 1 / 3], { atol: 1e-6 });
    assert.ok(Number.isNaN(out[5]));
  });

  ew('scalar operands and int32 arithmetic', async () => {
    await compareDevices('scalar', [{ data: [1, 2, 3], shape: [3] }], (x) => x.mul(2).add(0.5).sub(1).div(4));
    await compareDevices('int', [{ data: [1, -7, 9], shape: [3], dtype: 'int32' }, { data: [2, 2, -4], shape: [3], dtype: 'int32' }],
      (a, b) => [a.add(b), a.mul(b), a.div(b), a.maximum(b), a.neg(), a.abs()]);
  });

  ew('where broadcasts condition and both branches', async () => {
    await compareDevices('where', [
      { data: [1, 0, 1], shape: [3] }, { data: randomArray(6, 1), shape: [2, 3] }, { data: [5, 6], shape: [2, 1] },
    ], (c, a, b) => g.where(c, a, b));
  });

  ew('NaN propagates through add, maximum, relu, sum and max (no exception)', async () => {
    await compareDevices('nan', [{ data: [NaN, 1, 2, Infinity, -Infinity], shape: [5] }, { data: [0, NaN, 1, 1, 1], shape: [5] }],
      (a, b) => [a.add(b), a.maximum(b), a.relu(), a.sum(), a.max(), a.sign(), a.tanh(), a.sigmoid()]);
  });

  ew('strided kernels at every rank from 1 to 6 (permuted and broadcast views)', async () => {
    for (let rank = 1; rank <= 6; rank++) {
      const shape = Array.from({ length: rank }, (_, i) => 2 + (i % 3));
      const perm = [...shape.keys()].reverse();
      const bshape = shape.map((d, i) => (i % 2 ? 1 : d));
      await compareDevices(`rank ${rank}`, [{ data: randomArray(sizeOf(shape), 90 + rank), shape }, { data: randomArray(sizeOf(bshape), 95 + rank), shape: bshape }],
        (a, b) => [a.permute(perm).contiguous(), a.add(b), a.permute(perm).mul(b.permute(perm)), g.where(b, a, a.neg()), a.permute(perm).exp()]);
    }
  });

  ew('vec4-eligible shapes: pow, int32, where, offsets and permuted outer dims, NaN', async () => {
    const before = { ...elementwiseDispatches };
    await compareDevices('copy vec4', [{ data: randomArray(24, 100, -3, 3), shape: [2, 12] }], (x) => [x.cast('int32'), x.cast('int32').cast('float32')]);
    await compareDevices('pow vec4', [{ data: [-2, -2, 2, 0, 3, -1.5, 4, 9], shape: [8] }, { data: [2, 3, 0.5, 2, -1, 0.5, 0.5, 2], shape: [8] }],
      (a, b) => a.pow(b), { atol: 1e-5 });
    await compareDevices('int vec4', [{ data: [1, -7, 9, 4, 0, 3, -2, 8], shape: [2, 4], dtype: 'int32' }, { data: [2, 2, -4, 0], shape: [4], dtype: 'int32' }],
      (a, b) => [a.add(b), a.mul(b), a.div(b), a.maximum(b), a.neg(), a.abs(), a.relu(), a.cast('float32')]);
    await compareDevices('where vec4', [
      { data: [1, 0, 1, 0], shape: [4] }, { data: randomArray(12, 130), shape: [3, 4] }, { data: [5, 6, 7], shape: [3, 1] },
    ], (c, a, b) => [g.where(c, a, b), g.where(a.gt(0), c, 2)]);
    // truthiness in the vec4 form: ±0 false; NaN, ±∞ and the smallest subnormal true (as on the CPU)
    await compareDevices('where vec4 truthiness', [
      { data: [0, -0, NaN, Infinity, -Infinity, 1.4e-45, -1.4e-45, 2.5], shape: [8] }, { data: randomArray(8, 131), shape: [8] },
    ], (c, a) => g.where(c, a, -1));
    // views: offset divisible by 4 (contiguous and strided in vectors), offset not divisible by 4 (falls back),
    // permuted outer dimensions, a transposed last dimension (falls back)
    await compareDevices('views vec4', [{ data: randomArray(48, 140), shape: [6, 8] }, { data: randomArray(24, 141), shape: [2, 3, 4] }], (x, y) => [
      x.slice(0, 1, 5).exp(), x.slice(1, 4).add(1), x.slice(1, 2, 6).mul(x.slice(1, 4)), y.permute(1, 0, 2).neg(),
      y.permute(1, 0, 2).add(y.permute(1, 0, 2).slice(2, 0, 1)), x.T.mul(2), x.slice(0, 2).add(x.slice(0, 0, 4)),
    ], { atol: 2e-6, rtol: 2e-5 });
    await compareDevices('nan vec4', [{ data: [NaN, 1, 2, Infinity, -Infinity, 0, -0, NaN], shape: [8] }, { data: [0, NaN, 1, 1, 1, NaN, 2, 3], shape: [8] }],
      (a, b) => [a.add(b), a.maximum(b), a.minimum(b), a.relu(), a.sign(), a.tanh(), a.sigmoid(), a.eq(b), a.ne(b), a.lt(b), a.ge(b), g.where(a, a, b)]);
    if (webgpuAvailable()) {
      // the variant under test really ran (or really did not)
      const ran = elementwiseDispatches.vec4 - before.vec4;
      if (variant === 'vec4') assert.ok(ran >= 20, `vec4 dispatches: ${ran}`);
      else assert.is(ran, 0);
      assert.ok(elementwiseDispatches.scalar > before.scalar, 'the ineligible views fall back to the scalar kernels');
    }
  });
}
elementwiseTests('scalar');
elementwiseTests('vec4');

const reduceCases: [number[], number[] | undefined, boolean][] = [
  [[7], undefined, false], [[3, 5], [0], false], [[3, 5], [1], true], [[2, 3, 4], [0, 2], false],
  [[2, 3, 4], [1], true], [[4, 1, 6], [0, 1], true], [[5, 300], [1], false], [[3000, 3], [0], false],
  [[2, 0, 3], [1], false], [[1], [0], true], [[9, 33, 2], [0, 1, 2], false],
];
for (const op of ['sum', 'mean', 'max', 'min'] as const) {
  test(`reduction ${op} over any axes, with keepDim`, async () => {
    for (const [i, [shape, axes, keep]] of reduceCases.entries()) {
      if (op !== 'sum' && sizeOf(shape) === 0) continue;
      await testOp(`${op} ${shape} ${axes}`, [{ data: randomArray(sizeOf(shape), 40 + i), shape }],
        (x) => x[op](axes, keep), { forward: { atol: 1e-4, rtol: 1e-4 }, backward: { atol: 1e-4, rtol: 1e-4 } });
    }
  });
}

test('argmax/argmin pick the first extreme, over an axis or flat', async () => {
  const data = [1, 3, 3, 0, -1, -1, 2, 2];
  const out = await compareDevices('arg', [{ data, shape: [2, 4] }],
    (x) => [x.argmax(1), x.argmin(1), x.argmax(), x.argmax(0, true)]);
  assert.equal([...out[0]], [1, 2]);
  assert.equal([...out[1]], [3, 0]);
  assert.equal([...out[2]], [1]);
  const big = randomArray(5000 * 3, 5);
  await compareDevices('argmax big', [{ data: big, shape: [5000, 3] }], (x) => [x.argmax(0), x.argmax(1)]);
});

test('matmul: 2-D, batched, broadcast batch, transposed views, vectors, odd sizes', async () => {
  const cases: [number[], number[]][] = [
    [[1, 1], [1, 1]], [[5, 7], [7, 3]], [[33, 17], [17, 65]], [[2, 5, 6], [2, 6, 3]], [[3, 4, 5], [5, 2]],
    [[4, 1, 3, 2], [5, 2, 7]], [[6], [6, 4]], [[4, 6], [6]], [[6], [6]], [[0, 3], [3, 2]],
  ];
  for (const [i, [sa, sb]] of cases.entries()) {
    await testOp(`matmul ${sa} ${sb}`, [{ data: randomArray(sizeOf(sa), 60 + i), shape: sa }, { data: randomArray(sizeOf(sb), 70 + i), shape: sb }],
      (a, b) => a.matmul(b), { forward: { atol: 1e-4, rtol: 1e-4 }, backward: { atol: 2e-4, rtol: 1e-4 } });
  }
  await testOp('matmul transposed', [{ data: randomArray(35, 1), shape: [7, 5] }, { data: randomArray(15, 2), shape: [3, 5] }],
    (a, b) => a.T.matmul(a).matmul(b.T), { forward: { atol: 1e-4, rtol: 1e-4 }, backward: { atol: 5e-4, rtol: 1e-4 } });
});

test('views: reshape, permute, slice, expand, concat, stack, flatten, squeeze', async () => {
  await testOp('views', [{ data: randomArray(24, 3), shape: [2, 3, 4] }], (x) => [
    x.reshape(4, 6), x.permute(2, 0, 1).contiguous(), x.slice(2, 1, 3), x.slice(1, -2).add(1), x.transpose(0, 2).reshape(-1),
    g.concat([x, x.mul(2)], 1), g.stack([x, x], 0), x.flatten(1), x.narrow(0, 1, 1).squeeze(0), x.unsqueeze(1).expand(2, 5, 3, 4),
    x.permute(1, 2, 0).sum(0),
  ]);
});

test('softmax and logSoftmax are stable for large inputs', async () => {
  const data = [1000, 1001, 1002, -5, 0, 5];
  const [sm, lsm] = await testOp('softmax', [{ data, shape: [2, 3] }], (x) => [x.softmax(1), x.logSoftmax(1)],
    { forward: { atol: 1e-5 }, backward: { atol: 1e-5 } });
  assertClose(sm.slice(0, 3), [0.09003057, 0.24472847, 0.66524096], { atol: 1e-6 });
  assert.ok(lsm.every(Number.isFinite));
});

test('elementwise and reductions over more than 65 535 workgroups (2-D grid)', async () => {
  // 512 elements per workgroup in the elementwise kernels: 33.6 M elements need 65 625 workgroups, one row of the
  // grid too many. Checked against exact values rather than the (slow) CPU reference.
  if (!webgpuAvailable()) return;
  const n = 65535 * 512 + 5000;
  const x = g.full([n], 1, { device: 'webgpu' });
  const y = x.add(2);
  const total = y.sum();
  const ends = g.concat([y.slice(0, 0, 2), y.slice(0, n - 2)]);
  assert.is(await total.item(), 3 * n);
  assert.equal([...(await ends.data())], [3, 3, 3, 3]);
  for (const t of [x, y, total, ends]) t.dispose();
  const m = 65535 * 64 + 77; // the 'thread' reduction: one invocation per output
  const z = g.ones([m, 2], { device: 'webgpu' });
  const rows = z.sum(1);
  assert.is(await rows.sum().item(), 2 * m);
  z.dispose(); rows.dispose();
});

test('creation: zeros, ones, full, arange, linspace, seeded rand/randn/randint agree across devices', async () => {
  for (const device of allDevices()) {
    g.manualSeed(7);
    const r = await g.rand([5], { device }).data();
    const n = await g.randn([4], { device }).data();
    const i = await g.randint(0, 10, [6], { device }).data();
    g.manualSeed(7);
    assertClose(await g.rand([5], { device: 'cpu' }).data(), r);
    assertClose(await g.randn([4], { device: 'cpu' }).data(), n);
    assert.equal([...(await g.randint(0, 10, [6], { device: 'cpu' }).data())], [...i]);
    assert.equal([...(await g.arange(5, undefined, 1, { device }).data())], [0, 1, 2, 3, 4]);
    assertClose(await g.linspace(-1, 1, 5, { device }).data(), [-1, -0.5, 0, 0.5, 1]);
    assert.equal([...(await g.full([2, 2], 3, { device }).data())], [3, 3, 3, 3]);
    assert.equal(await g.tensor([[1, 2], [3, 4]], { device }).toArray(), [[1, 2], [3, 4]]);
  }
});

test.run();
