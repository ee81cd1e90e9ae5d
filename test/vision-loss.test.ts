/** crossEntropy (fused, stable), its fused gradient, countCorrect, and seeded dropout, against the CPU reference. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, compareDevices, g, randomArray, testOp, throwsGpugrad } from './helpers.js';

const labelsFor = (batch: number, classes: number, seed: number) => {
  const gen = new g.Generator(seed);
  return Float32Array.from({ length: batch }, () => gen.int(0, classes));
};

test('crossEntropy and its gradient match the CPU (1 to 300 rows, 1 to 33 classes, huge logits)', async () => {
  const shapes: [number, number, number][] = [[1, 10, 1], [7, 3, 1], [300, 10, 4], [5, 33, 50], [4, 1, 1]];
  for (const [i, [B, C, scale]] of shapes.entries()) {
    // first derivatives: the fused gradient kernel; second: its rule (softmax's Jacobian)
    await testOp(`crossEntropy ${B}x${C}`, [
      { data: randomArray(B * C, 800 + i, -scale * 20, scale * 20), shape: [B, C] },
      { data: labelsFor(B, C, 900 + i), shape: [B], dtype: 'int32' },
    ], (logits, labels) => g.crossEntropy(logits, labels), { forward: { atol: 2e-5, rtol: 1e-5 }, backward: { atol: 2e-5, rtol: 1e-4 } });
  }
});

test('crossEntropy equals -mean(logSoftmax[label]) and is finite for logits of ±1e4', async () => {
  const logits = g.tensor([[1e4, -1e4, 0], [2, 1, 0.5]], { device: 'cpu' });
  const labels = g.tensor([1, 0], { dtype: 'int32', device: 'cpu' });
  const loss = await g.crossEntropy(logits, labels).item();
  const l2 = 2 - Math.log(Math.exp(2) + Math.exp(1) + Math.exp(0.5));
  assertClose([loss], [(2e4 - l2) / 2], { rtol: 1e-6 });
});

test('gradcheck and gradgradcheck: crossEntropy', async () => {
  const logits = g.tensor(Float64Array.from(randomArray(12, 3)), { shape: [4, 3], dtype: 'float64', device: 'cpu', requiresGrad: true });
  const labels = g.tensor([2, 0, 1, 2], { dtype: 'int32', device: 'cpu' });
  assert.ok(await g.gradcheck((l) => g.crossEntropy(l, labels), [logits]));
  assert.ok(await g.gradgradcheck((l) => g.crossEntropy(l, labels), [logits]));
});

test('labels out of range are an error: at once on the CPU, at the next read-back on WebGPU', async () => {
  const bad = [[0, 3], [0, -1]];
  for (const y of bad) {
    throwsGpugrad(() => g.crossEntropy(g.zeros([2, 3], { device: 'cpu' }), g.tensor(y, { dtype: 'int32', device: 'cpu' })),
      new RegExp(`label ${y[1]} of row 1 is out of range for 3 classes`), 'cpu');
    if (!g.hasWebGPU()) continue;
    const loss = g.crossEntropy(g.zeros([2, 3], { device: 'webgpu' }), g.tensor(y, { dtype: 'int32', device: 'webgpu' }));
    let err: unknown = null;
    try { await loss.data(); } catch (e) { err = e; }
    assert.instance(err, g.GpugradError);
    assert.match((err as Error).message, new RegExp(`crossEntropy: label ${y[1]} of row 1 is out of range for 3 classes`));
    // the flag is cleared: the next good loss reads back fine
    const ok = g.crossEntropy(g.zeros([2, 3], { device: 'webgpu' }), g.tensor([0, 2], { dtype: 'int32', device: 'webgpu' }));
    assertClose([await ok.item()], [Math.log(3)], { atol: 1e-6 });
  }
  throwsGpugrad(() => g.crossEntropy(g.zeros([2, 3], { device: 'cpu' }), g.tensor([0, 1], { device: 'cpu' })), /labels must be int32/, 'dtype');
  throwsGpugrad(() => g.crossEntropy(g.zeros([2, 3], { device: 'cpu' }), g.tensor([0], { dtype: 'int32', device: 'cpu' })), /labels must be \[2\]/, 'shape');
});

test('countCorrect counts argmax == label on the device (first maximum on ties)', async () => {
  for (const [B, C] of [[1, 10], [300, 10], [1000, 3]]) {
    const logits = randomArray(B * C, B).map((v) => Math.round(v)); // many ties
    const [n] = await compareDevices(`countCorrect ${B}x${C}`, [
      { data: logits, shape: [B, C] }, { data: labelsFor(B, C, C), shape: [B], dtype: 'int32' },
    ], (l, y) => g.countCorrect(l, y));
    const y = labelsFor(B, C, C);
    let want = 0;
    for (let b = 0; b < B; b++) {
      let arg = 0;
      for (let c = 1; c < C; c++) if (logits[b * C + c] > logits[b * C + arg]) arg = c;
      if (arg === y[b]) want++;
    }
    assert.is(n[0], want);
  }
});

test('dropout: the same seeded mask on both devices, inverted scaling, the same mask in backward', async () => {
  const n = 20000, p = 0.3;
  const [y, gx] = await testOp('dropout', [{ data: randomArray(n, 1, 1, 2), shape: [4, n / 4] }, { data: randomArray(n, 2), shape: [4, n / 4] }],
    (x, r) => {
      const y = g.dropout(x, p, true, new g.Generator(42));
      const [gx] = g.grad((x) => g.dropout(x, p, true, new g.Generator(42)).mul(r).sum(), [x]);
      return [y, gx];
    }, { forward: { atol: 1e-6 }, backward: { atol: 1e-6 } });
  const x = randomArray(n, 1, 1, 2), r = randomArray(n, 2);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] !== 0) {
      kept++;
      assertClose([y[i], gx[i]], [x[i] / (1 - p), r[i] / (1 - p)], { atol: 1e-6 }, `element ${i}`);
    } else assert.is(gx[i], 0);
  }
  assert.ok(Math.abs(kept / n - (1 - p)) < 0.015, `kept ${kept / n}`);
});

test('dropout: off in eval mode and for p = 0; a different draw each call; p outside [0, 1] is an error', async () => {
  const x = g.ones([100], { device: 'cpu' });
  assert.is(g.dropout(x, 0.5, false), x);
  assert.is(g.dropout(x, 0, true), x);
  assert.equal(Array.from(await g.dropout(x, 1, true).data()), new Array(100).fill(0));
  const gen = new g.Generator(1);
  const a = await g.dropout(x, 0.5, true, gen).data(), b = await g.dropout(x, 0.5, true, gen).data();
  assert.not.equal(Array.from(a), Array.from(b));
  throwsGpugrad(() => g.dropout(x, 1.5, true), /p must be a probability/, 'p');
});

test('gradcheck: dropout', async () => {
  const x = g.tensor(Float64Array.from(randomArray(40, 9)), { shape: [4, 10], dtype: 'float64', device: 'cpu', requiresGrad: true });
  assert.ok(await g.gradcheck((x) => g.dropoutWithSeed(x, 0.4, [7, 8]), [x]));
});

test.run();
