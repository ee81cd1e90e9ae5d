/**
 * Second order: gradgradcheck for the ops the MLP and CNN paths use (and the other smooth ops), Hessian-vector
 * products against finite differences of gradients, the Hessian of a small MLP (symmetric, equal to a float64 finite
 * difference Hessian), and the done-when of the autograd issue: hvp and hessian of the 571-parameter MLP on WebGPU
 * agree with float64 finite differences computed on the CPU, and its WebGPU gradients equal the CPU ones.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, g, testedDevices } from './helpers.js';
import { leaf64, maxAbs, mlp, sincData } from './autograd-fixtures.js';
import type { DType, DeviceName, Tensor } from '../src/index.js';

const gg = (fn: (...xs: Tensor[]) => Tensor, ...inputs: Tensor[]) => g.gradgradcheck(fn, inputs);
const f64 = (data: number[] | Float64Array, shape: number[]) => g.tensor(data, { shape, dtype: 'float64', device: 'cpu' });

test('gradgradcheck: the MLP path (linear, relu, mse) and its primitives', async () => {
  assert.ok(await gg((x, w, b) => g.F.linear(x, w, b).relu(), leaf64([3, 4], 1), leaf64([2, 4], 2), leaf64([2], 3)));
  const target = f64([0.3, -0.2, 1, 0.5], [4, 1]);
  assert.ok(await gg((p) => g.F.mseLoss(p, target), leaf64([4, 1], 4)));
  assert.ok(await gg((a, b) => a.matmul(b), leaf64([2, 3, 4], 5), leaf64([4, 2], 6)));
  assert.ok(await gg((a, b) => a.add(b).mul(a).sub(b), leaf64([3, 1], 7), leaf64([1, 4], 8)));
  assert.ok(await gg((a) => a.square().mean(0), leaf64([3, 2], 9)));
  assert.ok(await gg((a) => a.T.reshape(6).expand(2, 6).sum(1), leaf64([2, 3], 10)));
});

test('gradgradcheck: smooth unary and binary ops, reductions and views', async () => {
  const x = leaf64([2, 3], 11, 0.3, 2), y = leaf64([3], 12, 0.3, 2);
  for (const op of ['exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'reciprocal', 'square', 'neg', 'abs'] as const) {
    assert.ok(await gg((a) => a[op](), x), op);
  }
  for (const op of ['mul', 'div', 'pow', 'maximum', 'minimum', 'sub'] as const) assert.ok(await gg((a, b) => a[op](b), x, y), op);
  assert.ok(await gg((a) => a.max(1), leaf64([3, 4], 13)));
  assert.ok(await gg((a) => a.softmax(-1), leaf64([2, 4], 14)));
  assert.ok(await gg((a) => a.logSoftmax(-1), leaf64([2, 4], 15)));
  assert.ok(await gg((a, b) => g.concat([a.slice(1, 1), b], 1).permute(1, 0), leaf64([2, 3], 16), leaf64([2, 2], 17)));
  assert.ok(await gg((a, b) => g.where(a.gt(0), a.mul(b), b), leaf64([4], 18), leaf64([4], 19)));
});

test('gradgradcheck: the CNN path (conv2d, maxPool2d, flatten, crossEntropy)', async () => {
  const labels = g.tensor([1, 0], { dtype: 'int32', device: 'cpu' });
  assert.ok(await gg((x, w, b) => g.conv2d(x, w, b, { padding: 1 }), leaf64([1, 2, 4, 4], 20), leaf64([2, 2, 3, 3], 21), leaf64([2], 22)));
  assert.ok(await gg((x) => g.maxPool2d(x, 2).flatten(1), leaf64([2, 1, 4, 4], 23)));
  assert.ok(await gg((z) => g.crossEntropy(z, labels), leaf64([2, 3], 24)));
  assert.ok(await gg((x, w) => g.crossEntropy(g.maxPool2d(g.conv2d(x, w), 2).flatten(1), labels),
    leaf64([2, 1, 5, 5], 25), leaf64([2, 1, 2, 2], 26)));
});

// ---- a small smooth MLP: Hessian-vector products and the Hessian against finite differences in float64 ----------

/** A functional 2-3-1 tanh MLP: params = [W1 [3,2], b1 [3], W2 [1,3], b2 [1]]. */
const tinyLoss = (x: Tensor, y: Tensor) => (...p: Tensor[]) =>
  g.F.mseLoss(g.F.linear(g.F.linear(x, p[0], p[1]).tanh(), p[2], p[3]), y);
const tinyShapes = [[3, 2], [3], [1, 3], [1]];

/** Flat float64 gradient of `loss` at the flat parameter vector `theta`. */
async function gradAt(loss: (...p: Tensor[]) => Tensor, shapes: number[][], theta: Float64Array): Promise<Float64Array> {
  let at = 0;
  const ps = shapes.map((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    return g.tensor(theta.slice(at, (at += n)), { shape: s, dtype: 'float64', device: 'cpu', requiresGrad: true });
  });
  const grads = g.tidy(() => g.grad(loss(...ps), ps, { allowUnused: true }));
  const out = new Float64Array(theta.length);
  let k = 0;
  for (const gr of grads) { out.set(await gr.data(), k); k += gr.size; gr.dispose(); }
  ps.forEach((p) => p.dispose());
  return out;
}

async function flat(ts: readonly Tensor[]): Promise<Float64Array> {
  const parts = await Promise.all(ts.map((t) => t.data()));
  return Float64Array.from(parts.flatMap((p) => Array.from(p)));
}

/** (∇L(θ + εv) − ∇L(θ − εv)) / 2ε */
async function fdHvp(loss: (...p: Tensor[]) => Tensor, shapes: number[][], theta: Float64Array, v: Float64Array, eps = 1e-6) {
  const plus = await gradAt(loss, shapes, theta.map((t, i) => t + eps * v[i]));
  const minus = await gradAt(loss, shapes, theta.map((t, i) => t - eps * v[i]));
  return plus.map((p, i) => (p - minus[i]) / (2 * eps));
}

test('hvp of a small tanh MLP equals finite differences of its gradient (float64)', async () => {
  const x = f64([0.1, -0.4, 0.7, 0.2, -1, 0.5, 0.3, 0.9], [4, 2]), y = f64([0.5, -0.3, 0.2, 0.8], [4, 1]);
  const params = tinyShapes.map((s, i) => leaf64(s, 30 + i, -1, 1));
  const v = tinyShapes.map((s, i) => leaf64(s, 40 + i, -1, 1).detach());
  const hv = await flat(g.hvp(tinyLoss(x, y), params, v));
  const ref = await fdHvp(tinyLoss(x, y), tinyShapes, await flat(params), await flat(v));
  assertClose(hv, ref, { atol: 1e-7, rtol: 1e-6 }, 'hvp');
});

test('the Hessian of a small tanh MLP is symmetric and equals the finite-difference Hessian (float64)', async () => {
  const x = f64([0.1, -0.4, 0.7, 0.2, -1, 0.5], [3, 2]), y = f64([0.5, -0.3, 0.2], [3, 1]);
  const params = tinyShapes.map((s, i) => leaf64(s, 50 + i, -1, 1));
  const H = g.hessian(tinyLoss(x, y), params);
  const n = 13;
  assert.equal([...H.shape], [n, n]);
  const h = await H.data();
  const theta = await flat(params);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) assertClose([h[i * n + j]], [h[j * n + i]], { atol: 1e-12, rtol: 1e-9 }, `symmetry ${i},${j}`);
    const e = new Float64Array(n);
    e[j] = 1;
    assertClose(h.slice(j * n, (j + 1) * n), await fdHvp(tinyLoss(x, y), tinyShapes, theta, e), { atol: 1e-7, rtol: 1e-6 }, `row ${j}`);
  }
});

// ---- the 571-parameter MLP: WebGPU and wasm against float64 on the CPU ------------------------------------------------------

const N = 64;
const MLP_SHAPES = mlp('cpu').parameters().map((p) => [...p.shape]);

/** The MLP as a function of its parameters (so finite differences can move them). */
const mlpLoss = (x: Tensor, y: Tensor) => (...p: Tensor[]) => {
  let h = x;
  for (let i = 0; i < p.length; i += 2) {
    h = g.F.linear(h, p[i], p[i + 1]);
    if (i + 2 < p.length) h = h.relu();
  }
  return g.F.mseLoss(h, y);
};

function setup(device: DeviceName, dtype?: DType) {
  const model = mlp(device, dtype);
  const { x, y } = sincData(N, device, dtype);
  return { model, params: model.parameters(), loss: mlpLoss(x, y) };
}

for (const device of testedDevices()) {
test(`571-parameter MLP: ${device} gradients equal the CPU ones`, async () => {
  const cpu = setup('cpu', 'float32'), gpu = setup(device);
  const gc = await flat(g.grad(cpu.loss(...cpu.params), cpu.params));
  const gw = await flat(g.grad(gpu.loss(...gpu.params), gpu.params));
  assert.is(gc.length, 571);
  assertClose(gw, gc, { atol: 1e-5 * maxAbs(gc), rtol: 1e-3 }, 'gradients');
  const model = mlp(device); // the module's forward gives the same gradient as the functional form
  const { x, y } = sincData(N, device);
  g.F.mseLoss(model.forward(x), y).backward();
  assertClose(await flat(model.parameters().map((p) => p.grad!)), gw, { atol: 1e-7, rtol: 1e-5 }, 'module path');
});

test(`571-parameter MLP: hvp and hessian on ${device} agree with float64 finite differences on the CPU`, async () => {
  const ref = setup('cpu', 'float64'), gpu = setup(device);
  const theta = await flat(ref.params);
  const gen = new g.Generator(7);
  const vHost = Float64Array.from({ length: theta.length }, () => gen.random() * 2 - 1);
  let at = 0;
  const v = MLP_SHAPES.map((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    return g.tensor(vHost.slice(at, (at += n)), { shape: s, device, dtype: 'float32' });
  });
  const hv = await flat(g.hvp(gpu.loss, gpu.params, v));
  const hvRef = await fdHvp(ref.loss, MLP_SHAPES, theta, vHost);
  assertClose(hv, hvRef, { atol: 1e-4 * maxAbs(hvRef), rtol: 1e-3 }, 'hvp');

  const H = g.hessian(gpu.loss, gpu.params);
  assert.equal([...H.shape], [571, 571]);
  const h = await H.data();
  const scale = maxAbs(h);
  for (let i = 0; i < 571; i++) {
    for (let j = 0; j < i; j++) assertClose([h[i * 571 + j]], [h[j * 571 + i]], { atol: 1e-6 * scale, rtol: 1e-4 }, `symmetry ${i},${j}`);
  }
  // every 7th row (82 rows, touching every layer) against finite differences of the float64 gradient
  for (let j = 0; j < 571; j += 7) {
    const e = new Float64Array(571);
    e[j] = 1;
    assertClose(h.slice(j * 571, (j + 1) * 571), await fdHvp(ref.loss, MLP_SHAPES, theta, e), { atol: 1e-4 * scale, rtol: 1e-3 }, `row ${j}`);
  }
  H.dispose();
});
}

test.run();
