/**
 * The engine's semantics: accumulation into leaves, zeroGrad, freed graphs, retainGraph, non-scalar outputs, noGrad,
 * detach, retainGrad, deep graphs, shared sub-graphs, aliasing of leaf gradients, grad(), prompt disposal of
 * intermediate gradients, the error messages, and the graph printer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, g, throwsGpugrad } from './helpers.js';
import type { Tensor } from '../src/index.js';

g.setDevice('cpu');
const t = (data: number[], requiresGrad = true) => g.tensor(data, { requiresGrad });
const values = async (x: Tensor | null) => Array.from(await x!.data());

test('backward fills .grad of the leaves; a second backward accumulates; zeroGrad clears', async () => {
  const x = t([1, 2, 3]);
  const f = () => x.mul(x).sum(); // d/dx = 2x
  f().backward();
  assert.equal(await values(x.grad), [2, 4, 6]);
  f().backward();
  assert.equal(await values(x.grad), [4, 8, 12]);
  const opt = new g.SGD([x], { lr: 0 });
  opt.zeroGrad();
  assert.is(x.grad, null);
});

test('a freed graph cannot be walked twice unless retained', async () => {
  const x = t([1, 2]);
  const y = x.exp().sum();
  y.backward();
  throwsGpugrad(() => y.backward(), /already freed.*retainGraph/, 'second backward');
  const z = x.exp().sum();
  z.backward(undefined, { retainGraph: true });
  z.backward();
  assertClose(await values(x.grad), [1, 2].map((v) => 3 * Math.exp(v)), { rtol: 1e-6 });
});

test('errors: non-scalar without a gradient, wrong gradient shape, nothing requiring grad, int tensors', () => {
  const x = t([1, 2, 3]);
  throwsGpugrad(() => x.mul(2).backward(), /scalar.*\.sum\(\)/, 'non-scalar');
  throwsGpugrad(() => x.mul(2).backward(g.ones([2])), /gradient has shape \[2\].*\[3\]/, 'gradient shape');
  throwsGpugrad(() => t([1, 2], false).exp().sum().backward(), /does not require a gradient/, 'no grad');
  throwsGpugrad(() => g.tensor([1, 2], { dtype: 'int32', requiresGrad: true }), /floating-point/, 'int32 leaf');
  throwsGpugrad(() => g.tensor([1, 2], { dtype: 'int32' }).requiresGrad_(), /floating-point/, 'int32 requiresGrad_');
});

test('a non-scalar output takes a gradient of its shape (a vector-Jacobian product)', async () => {
  const x = t([1, 2, 3]);
  x.square().backward(g.tensor([1, 0, -1]));
  assert.equal(await values(x.grad), [2, 0, -6]);
});

test('noGrad records nothing; enableGrad switches recording back on; async functions are refused', () => {
  const x = t([1, 2]);
  const y = g.noGrad(() => x.mul(2));
  assert.is(y.requiresGrad, false);
  assert.is(y.gradFn, null);
  const z = g.noGrad(() => g.enableGrad(() => x.mul(2)));
  assert.is(z.requiresGrad, true);
  assert.is(g.isGradEnabled(), true);
  throwsGpugrad(() => g.noGrad(async () => x.mul(2)), /Promise/, 'async');
  assert.is(g.isGradEnabled(), true, 'grad mode restored after the error');
});

test('detach cuts the graph; retainGrad keeps a non-leaf gradient', async () => {
  const x = t([1, 2]);
  const h = x.mul(3).retainGrad();
  const y = h.mul(x.detach()).sum(); // the detached factor is a constant
  y.backward();
  assert.equal(await values(x.grad), [3, 6]);
  assert.equal(await values(h.grad), [1, 2]);
});

test('shared sub-graphs get the sum of all paths (diamond)', async () => {
  const x = t([0.5, -1.5]);
  const y = x.mul(x);            // y = x²
  const z = y.add(y.mul(y)).sum(); // z = y + y², dz/dx = (1 + 2y)·2x
  z.backward();
  assertClose(await values(x.grad), [0.5, -1.5].map((v) => (1 + 2 * v * v) * 2 * v), { rtol: 1e-6 });
});

test('a graph 20 000 ops deep does not overflow the stack', async () => {
  const x = t([1]);
  const scope = g.startScope();
  let h = x;
  for (let i = 0; i < 20000; i++) h = h.add(1e-4);
  h.sum().backward();
  g.endScope(scope);
  assert.equal(await values(x.grad), [1]);
});

test('leaves sharing one gradient tensor get their own .grad objects', async () => {
  const a = t([1, 2]), b = t([3, 4]);
  a.add(b).sum().backward(); // add passes one gradient object to both inputs
  assert.not.equal(a.grad, b.grad);
  a.grad!.dispose();
  assert.equal(await values(b.grad), [1, 1]);
  const gradIn = g.tensor([5, 6]);
  a.backward(gradIn); // the root is itself a leaf: its .grad must not be the caller's tensor
  gradIn.dispose();
  assert.is(b.grad!.isDisposed, false);
});

test('leaf gradients are dense even when the rule gives a broadcast view', async () => {
  const x = t([1, 2, 3]);
  x.sum().backward(); // sum's rule expands a scalar: a stride-0 view
  assert.ok(x.grad!.isContiguous && x.grad!.offset === 0 && x.grad!.storage.length === 3);
  assert.equal(await values(x.grad), [1, 1, 1]);
});

test('grad() returns gradients without touching .grad; allowUnused gives zeros; the function form', async () => {
  const x = t([1, 2]), y = t([3, 4]), unused = t([0]);
  const [gx, gy] = g.grad(x.mul(y).sum(), [x, y]);
  assert.equal(await values(gx), [3, 4]);
  assert.equal(await values(gy), [1, 2]);
  assert.is(x.grad, null);
  throwsGpugrad(() => g.grad(x.sum(), [unused]), /not used.*allowUnused/, 'unused');
  const [gu] = g.grad(x.sum(), [unused], { allowUnused: true });
  assert.equal(await values(gu), [0]);
  const [gf] = g.grad((a) => a.exp().sum(), [g.tensor([0, 1])]);
  assertClose(await values(gf), [1, Math.E], { rtol: 1e-6 });
  const [same1, same2] = g.grad(x.square().sum(), [x, x]);
  assert.not.equal(same1, same2);
});

test('grad() with respect to an intermediate tensor', async () => {
  const x = t([1, 2]);
  const h = x.mul(2);
  const [gh] = g.grad(h.square().sum(), [h]);
  assert.equal(await values(gh), [4, 8]);
});

test('backward disposes intermediate gradients: only the leaves\' .grad remain', () => {
  const x = t([1, 2, 3]), w = t([0.5, -1, 2]);
  g.tidy(() => {
    const loss = x.mul(w).tanh().mul(x).sigmoid().sum().mul(3);
    const before = g.memory().cpu.tensors;
    loss.backward();
    assert.is(g.memory().cpu.tensors, before + 2, 'x.grad and w.grad, nothing else');
  });
  assert.ok(x.grad && w.grad && !x.grad.isDisposed, 'leaf gradients survive the tidy scope');
});

test('intermediate gradients are disposed during the walk, not at its end', async () => {
  // a probe op (identity) whose rule notes how many tensors are alive when backward reaches it
  const { autogradEngine } = await import('../src/tensor/autograd-seam.js');
  const alive: number[] = [];
  g.defineRule('test_probe', (grad) => { alive.push(g.memory().cpu.tensors); return [grad]; });
  const probe = (x: Tensor) => { const y = g.noGrad(() => x.clone()); autogradEngine()!.record('test_probe', [x], y); return y; };
  const x = t([1, 2, 3]);
  g.tidy(() => {
    let h = probe(x);
    for (let block = 0; block < 3; block++) {
      for (let i = 0; i < 40; i++) h = h.mul(1.01).tanh();
      h = probe(h);
    }
    h.sum().backward();
  });
  assert.is(alive.length, 4);
  // 120 rules ran between the first probe reached and the last: the live count must not grow with them
  assert.ok(Math.max(...alive) - Math.min(...alive) <= 2, `live tensors at the probes: ${alive}`);
});

test('createGraph: the gradient has a graph of its own', async () => {
  const x = t([2]);
  const [dx] = g.grad(x.pow(3).sum(), [x], { createGraph: true }); // 3x² = 12
  assert.ok(dx.requiresGrad);
  const [ddx] = g.grad(dx.sum(), [x]); // 6x = 12
  assert.equal(await values(dx), [12]);
  assert.equal(await values(ddx), [12]);
  x.pow(3).sum().backward(undefined, { createGraph: true });
  assert.ok(x.grad!.requiresGrad, 'backward with createGraph leaves a differentiable .grad');
});

test('a graph keeps its scalar constants after the constant cache lets them go (5 000 constants before backward)', async () => {
  for (const device of ['cpu', ...(g.hasWebGPU() ? ['webgpu' as const] : [])] as g.DeviceName[]) {
    const x = g.tensor([1, 2, 3], { device, requiresGrad: true });
    const scaled = x.mul(0.123); // the constant 0.123, read again by mul's backward
    const loss = scaled.add(1.5).pow(2).sum();
    // more distinct constants than the cache holds, between the forward and its backward
    g.noGrad(() => g.tidy(() => { for (let i = 0; i < 5000; i++) x.add(1000 + i); }));
    loss.backward();
    const expected = [1, 2, 3].map((v) => 2 * (0.123 * v + 1.5) * 0.123);
    assertClose(await values(x.grad), expected, {}, device);
    // the node's alias of the constant is owned by the node's output and released with it
    const alias = scaled.gradFn!.inputs[1];
    assert.ok(alias.internal && !alias.isDisposed);
    scaled.dispose();
    assert.ok(alias.isDisposed, `${device}: released with the output that owned it`);
    loss.dispose(); x.dispose();
  }
});

test('a graph whose intermediates were disposed by tidy is an error, not silently missing gradients', () => {
  const x = t([1, 2]);
  const y = g.tidy(() => x.exp().mul(2).sum()); // tidy disposed exp's and mul's outputs
  throwsGpugrad(() => y.backward(), /disposed before backward/, 'tidy around forward');
});

test('using a disposed intermediate in backward names the op', () => {
  const x = t([1, 2]);
  const h = x.exp();
  const y = h.mul(h).sum();
  h.dispose();
  throwsGpugrad(() => y.backward(), /an input of 'mul', was disposed/, 'disposed');
});

test('toDot prints ops, shapes, names, values and gradients', async () => {
  const w = t([1, -2]);
  w.name = 'w';
  const loss = w.mul(3).relu().sum();
  loss.backward(undefined, { retainGraph: true });
  const dot = await g.toDot(loss, { values: true, grads: true });
  assert.match(dot, /^digraph autograd \{/);
  for (const s of ['label="mul"', 'label="relu"', 'label="sum"', 'label="w #', '[2] float32', 'data [3, 0]', 'grad [3, 0]']) {
    assert.ok(dot.includes(s), `missing ${s} in\n${dot}`);
  }
  assert.is((dot.match(/->/g) ?? []).length, 7); // w,3 → mul → · → relu → · → sum → ·
});

test.run();
