/**
 * Optimizers against a plain-JavaScript transcription of PyTorch's update rules, on both devices; Adam as one kernel
 * per parameter; and the training loop: the 571-parameter MLP on sin(5πx)/(5πx) with Adam (lr 1e-3) — the
 * loss falls, the devices agree, a WebGPU step is one submit, and memory does not grow from step to step.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allDevices, assertClose, g, throwsGpugrad, webgpuAvailable } from './helpers.js';
import { mlp, sincData } from './autograd-fixtures.js';
import type { DeviceName, Optimizer, Tensor } from '../src/index.js';

const devices = (): DeviceName[] => allDevices();

/** Runs `steps` updates minimising sum(p² · c) (gradient 2·c·p) and returns the parameter after each step. */
async function run(device: DeviceName, make: (p: Tensor) => Optimizer, steps: number): Promise<number[][]> {
  const p = g.tensor([1, -2, 0.5], { device, requiresGrad: true });
  const c = g.tensor([1, 0.5, 3], { device });
  const opt = make(p);
  const out: number[][] = [];
  for (let s = 0; s < steps; s++) {
    g.tidy(() => { opt.zeroGrad(); p.square().mul(c).sum().backward(); opt.step(); });
    out.push(Array.from(await p.data()));
  }
  return out;
}

/** The same problem by hand, following torch.optim's documented algorithms. */
function reference(update: (p: number[], grad: number[], t: number) => void, steps: number): number[][] {
  const p = [1, -2, 0.5], c = [1, 0.5, 3];
  const out: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    update(p, p.map((v, i) => 2 * c[i] * v), t);
    out.push([...p]);
  }
  return out;
}

function sgdRef(lr: number, momentum = 0, weightDecay = 0, nesterov = false, dampening = 0) {
  const buf: number[] = [];
  return (p: number[], grad: number[], t: number) => p.forEach((_, i) => {
    let d = grad[i] + weightDecay * p[i];
    if (momentum) {
      buf[i] = t === 1 ? d : momentum * buf[i] + (1 - dampening) * d;
      d = nesterov ? d + momentum * buf[i] : buf[i];
    }
    p[i] -= lr * d;
  });
}

function adamRef(lr: number, b1: number, b2: number, eps: number, weightDecay: number) {
  const m = [0, 0, 0], v = [0, 0, 0];
  return (p: number[], grad: number[], t: number) => p.forEach((_, i) => {
    const gi = grad[i] + weightDecay * p[i];
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    p[i] -= (lr * (m[i] / (1 - b1 ** t))) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps);
  });
}

const closeRows = (got: number[][], want: number[][], what: string) =>
  got.forEach((row, s) => assertClose(row, want[s], { atol: 1e-5, rtol: 1e-4 }, `${what} step ${s + 1}`));

test('SGD: plain, momentum, Nesterov, weight decay, dampening — as torch.optim.SGD', async () => {
  const cases: [string, g.SGDOptions][] = [
    ['plain', { lr: 0.1 }], ['momentum', { lr: 0.05, momentum: 0.9 }], ['nesterov', { lr: 0.05, momentum: 0.9, nesterov: true }],
    ['decay', { lr: 0.1, weightDecay: 0.1, momentum: 0.5, dampening: 0.3 }],
  ];
  for (const device of devices()) {
    for (const [name, o] of cases) {
      closeRows(await run(device, (p) => new g.SGD([p], o), 6),
        reference(sgdRef(o.lr, o.momentum, o.weightDecay, o.nesterov, o.dampening), 6), `${device} SGD ${name}`);
    }
  }
  throwsGpugrad(() => new g.SGD([g.zeros([1], { requiresGrad: true })], { lr: 0.1, nesterov: true }), /Nesterov/, 'nesterov');
});

test('Adam: defaults and coupled L2 weight decay — as torch.optim.Adam', async () => {
  for (const device of devices()) {
    closeRows(await run(device, (p) => new g.Adam([p], { lr: 0.1 }), 8), reference(adamRef(0.1, 0.9, 0.999, 1e-8, 0), 8), `${device} Adam`);
    closeRows(await run(device, (p) => new g.Adam([p], { lr: 0.05, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.2 }), 8),
      reference(adamRef(0.05, 0.8, 0.99, 1e-6, 0.2), 8), `${device} Adam weight decay`);
  }
});

test('stateDict / loadStateDict: a fresh optimizer continues exactly where a saved one stopped', async () => {
  for (const device of devices()) {
    for (const make of [(p: Tensor) => new g.Adam([p], { lr: 0.1 }), (p: Tensor) => new g.SGD([p], { lr: 0.1, momentum: 0.9 })]) {
      const stepOf = (p: Tensor, opt: Optimizer) => { opt.zeroGrad(); p.square().mul(g.tensor([1, 2, 3], { device })).sum().backward(); opt.step(); };
      const p = g.tensor([1, -2, 0.5], { device, requiresGrad: true });
      const opt = make(p);
      for (let i = 0; i < 3; i++) stepOf(p, opt);
      // save: host copies of the state, as a checkpoint would hold them
      const saved = opt.stateDict();
      const copies: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(saved.tensors)) copies[k] = g.tensor(await t.data(), { shape: [...t.shape], device });
      assert.equal(Object.keys(copies).sort(), opt instanceof g.Adam ? ['0.m', '0.v'] : ['0.momentum']);
      const q = g.tensor(await p.data(), { device, requiresGrad: true });
      for (let i = 0; i < 2; i++) stepOf(p, opt);
      const fresh = make(q);
      fresh.loadStateDict({ stepCount: saved.stepCount, tensors: copies });
      assert.is(fresh.stepCount, 3);
      for (let i = 0; i < 2; i++) stepOf(q, fresh);
      assertClose(await q.data(), await p.data(), { atol: 1e-6 }, `${device} ${opt.constructor.name}`);
      throwsGpugrad(() => fresh.loadStateDict({ stepCount: 1, tensors: { '0.m': g.zeros([2], { device }) } }),
        opt instanceof g.Adam ? /0\.m is \[2\] but parameter 0 is \[3\]/ : /unexpected state 0\.m/);
      opt.dispose(); fresh.dispose();
    }
  }
});

test('reset(): the next steps are a new optimizer\'s over the same parameters (moments, buffers and bias correction restart)', async () => {
  for (const device of devices()) {
    for (const make of [(p: Tensor) => new g.Adam([p], { lr: 0.1 }), (p: Tensor) => new g.SGD([p], { lr: 0.1, momentum: 0.9 })]) {
      const stepOf = (p: Tensor, opt: Optimizer) => g.tidy(() => { opt.zeroGrad(); p.square().mul(g.tensor([1, 2, 3], { device })).sum().backward(); opt.step(); });
      const p = g.tensor([1, -2, 0.5], { device, requiresGrad: true });
      const opt = make(p);
      for (let i = 0; i < 3; i++) stepOf(p, opt);
      const q = g.tensor(await p.data(), { device, requiresGrad: true });
      const before = g.memory()[device].tensors;
      opt.reset();
      assert.is(opt.stepCount, 0);
      assert.ok(g.memory()[device].tensors < before, 'the old state is released, not leaked');
      const fresh = make(q);
      for (let i = 0; i < 3; i++) { stepOf(p, opt); stepOf(q, fresh); }
      // bit for bit: the same kernels on the same numbers; a kept moment or step count would move p elsewhere
      assert.equal(Array.from(await p.data()), Array.from(await q.data()), `${device} ${opt.constructor.name}`);
      opt.dispose(); fresh.dispose();
    }
  }
});

test('optimizers skip parameters without a gradient and refuse non-parameters', async () => {
  const a = g.tensor([1], { requiresGrad: true }), b = g.tensor([2], { requiresGrad: true });
  const opt = new g.Adam([a, b], { lr: 0.5 });
  a.square().sum().backward();
  opt.step();
  assert.equal(Array.from(await b.data()), [2]);
  assert.ok((await a.data())[0] < 1);
  throwsGpugrad(() => new g.Adam([g.zeros([2])]), /leaf that requires a gradient/, 'no grad');
  throwsGpugrad(() => new g.SGD([], { lr: 1 }), /no parameters/, 'empty');
});

test('Adam on WebGPU: one kernel per parameter; its state is kept out of tidy scopes', async () => {
  if (!webgpuAvailable()) return;
  const model = mlp('webgpu');
  const { x, y } = sincData(16, 'webgpu');
  const opt = new g.Adam(model.parameters());
  g.tidy(() => g.F.mseLoss(model.forward(x), y).backward());
  opt.step(); // the first step also creates the moments (zero fills)
  const rt = g.webgpuRuntime()!;
  const before = rt.stats.dispatches;
  g.tidy(() => opt.step());
  assert.is(rt.stats.dispatches - before, 16, 'one dispatch per parameter tensor');
  assert.ok(opt.state(0) && !opt.state(0)!.m.isDisposed);
});

const STEPS = 150;

/** Trains the MLP with Adam (lr 1e-3) on `n` points; returns the loss after every step. */
async function train(device: DeviceName, n: number, steps: number, each?: (step: number) => void | Promise<void>,
  keepLosses = true) {
  const model = mlp(device, 'float32');
  const { x, y } = sincData(n, device, 'float32');
  const opt = new g.Adam(model.parameters(), { lr: 1e-3 });
  const losses: Tensor[] = [];
  for (let s = 0; s < steps; s++) {
    const loss = g.tidy(() => {
      opt.zeroGrad();
      const l = g.F.mseLoss(model.forward(x), y);
      l.backward();
      opt.step();
      return l.detach();
    });
    if (keepLosses) losses.push(loss); else loss.dispose();
    await each?.(s);
  }
  const values = [];
  for (const l of losses) { values.push(await l.item()); l.dispose(); }
  opt.dispose(); model.dispose(); x.dispose(); y.dispose();
  return values;
}

test('the 571-parameter MLP learns sin(5πx)/(5πx) with Adam on both devices, which agree', async () => {
  const cpu = await train('cpu', 100, STEPS);
  assert.ok(cpu[STEPS - 1] < 0.7 * cpu[0], `the loss falls: ${cpu[0]} → ${cpu[STEPS - 1]}`);
  if (!webgpuAvailable()) return;
  const gpu = await train('webgpu', 100, STEPS);
  assertClose(gpu.slice(0, 10), cpu.slice(0, 10), { atol: 0, rtol: 1e-5 }, 'first steps');
  assertClose(gpu, cpu, { atol: 0, rtol: 1e-2 }, 'all steps');
});

test('a WebGPU training step is one submit, and memory does not grow from step to step', async () => {
  if (!webgpuAvailable()) return;
  const rt = g.webgpuRuntime()!;
  const seen: { submits: number; tensors: number; bytes: number; allocated: number }[] = [];
  await train('webgpu', 500, 12, () => {
    const before = rt.stats.submits;
    rt.flush(); // the step itself recorded work without submitting: this submits it
    const m = g.memory().webgpu;
    seen.push({ submits: rt.stats.submits - before, tensors: m.tensors, bytes: m.bytes, allocated: m.allocatedBytes ?? 0 });
  }, false);
  // step 0 creates Adam's moments, and the pool warms up; from then on nothing changes
  for (const [s, r] of seen.entries()) {
    assert.is(r.submits, 1, `step ${s}: one submit`);
    if (s >= 2) {
      assert.equal(r, seen[1], `step ${s}: memory as after step 1`);
    }
  }
});

test.run();
