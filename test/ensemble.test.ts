/**
 * Batched ensembles: N models trained in lockstep equal N models trained alone with the same seeds (loss curves and
 * final parameters), on both devices; a dead member does not disturb its neighbours; a step submits once; the per-model
 * Hessians equal each model's own.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allDevices, assertClose, g, webgpuAvailable } from './helpers.js';

const SIZES = [1, 5, 10, 10, 5, 1];
const SEEDS = [11, 12, 13];

function data(device: g.DeviceName) {
  const x = g.linspace(-1, 1, 40, { device }).reshape(40, 1);
  const y = x.mul(5 * Math.PI).sin();
  return { x, y };
}

function single(seed: number, device: g.DeviceName): g.Sequential {
  const gen = new g.Generator(seed);
  const mods: g.Module[] = [];
  for (let l = 0; l < SIZES.length - 1; l++) {
    mods.push(new g.Linear(SIZES[l], SIZES[l + 1], { device, generator: gen }));
    if (l < SIZES.length - 2) mods.push(new g.ReLU());
  }
  return new g.Sequential(...mods);
}

async function trainAlone(seed: number, device: g.DeviceName, steps: number) {
  const { x, y } = data(device);
  const model = single(seed, device);
  const opt = new g.Adam(model.parameters(), { lr: 1e-2 });
  const losses: g.Tensor[] = [];
  for (let s = 0; s < steps; s++) {
    losses.push(g.tidy(() => {
      opt.zeroGrad();
      const loss = new g.MSELoss().forward(model.forward(x), y);
      loss.backward();
      opt.step();
      return loss;
    }));
  }
  const curve = await Promise.all(losses.map((l) => l.item()));
  const params = await Promise.all(model.parameters().map((p) => p.data()));
  losses.forEach((l) => l.dispose()); model.dispose(); opt.dispose(); x.dispose(); y.dispose();
  return { curve, params };
}

async function trainEnsemble(device: g.DeviceName, steps: number, kill = -1) {
  const { x, y } = data(device);
  const ens = new g.MLPEnsemble(SEEDS.length, SIZES, { device, generators: SEEDS.map((s) => new g.Generator(s)) });
  if (kill >= 0) {
    // Make member `kill` dead: its first layer's biases very negative, so every ReLU outputs 0 for every input.
    const b = await ens.biases[0].data();
    b.fill(-100, kill * SIZES[1], (kill + 1) * SIZES[1]);
    g.copyInto(ens.biases[0], g.tensor(b, { shape: ens.biases[0].shape, device }));
  }
  const opt = new g.Adam(ens.parameters(), { lr: 1e-2 });
  const rt = g.webgpuRuntime();
  const losses: g.Tensor[] = [];
  const submitsPerStep: number[] = [];
  for (let s = 0; s < steps; s++) {
    const before = rt?.stats.submits ?? 0;
    losses.push(g.tidy(() => {
      opt.zeroGrad();
      const perModel = g.ensembleMSE(ens.forward(x), y);
      perModel.sum().backward();
      opt.step();
      return perModel.detach();
    }));
    submitsPerStep.push((rt?.stats.submits ?? 0) - before);
  }
  const curves = await Promise.all(losses.map((l) => l.data()));
  const norms = await g.tidy(() => g.perModelNorm([ens.weights[0].grad!])).data(); // first layer only
  const members = SEEDS.map((_, n) => ens.member(n));
  const params = await Promise.all(members.map((m) => Promise.all(m.parameters().map((p) => p.data()))));
  losses.forEach((l) => l.dispose()); members.forEach((m) => m.dispose()); ens.dispose(); opt.dispose(); x.dispose(); y.dispose();
  return { curves, params, submitsPerStep, norms };
}

for (const device of ['cpu', 'webgpu', 'wasm'] as g.DeviceName[]) {
  test(`${device}: an ensemble of 3 equals 3 models trained alone with the same seeds`, async () => {
    if (device === 'webgpu' && !webgpuAvailable()) return;
    const steps = 15;
    const ens = await trainEnsemble(device, steps);
    for (const [n, seed] of SEEDS.entries()) {
      const alone = await trainAlone(seed, device, steps);
      assertClose(ens.curves.map((c) => c[n]), alone.curve, { atol: 1e-6, rtol: 1e-4 }, `loss curve of model ${n}`);
      alone.params.forEach((p, i) => assertClose(ens.params[n][i], p, { atol: 1e-5, rtol: 1e-4 }, `model ${n} parameter ${i}`));
    }
    if (device === 'webgpu') assert.ok(ens.submitsPerStep.every((s) => s === 0), `submits per step: ${ens.submitsPerStep}`);
  });
}

test('a dead member keeps a zero gradient and leaves its neighbours exactly as before', async () => {
  const device: g.DeviceName = webgpuAvailable() ? 'webgpu' : 'cpu';
  const healthy = await trainEnsemble(device, 8);
  const withDead = await trainEnsemble(device, 8, 1);
  for (const n of [0, 2]) {
    assertClose(withDead.curves.map((c) => c[n]), healthy.curves.map((c) => c[n]), { atol: 0, rtol: 0 }, `neighbour ${n}`);
  }
  // no gradient reaches the dead member's first layer (every ReLU after it is off), while the others' is non-zero
  assert.ok(withDead.curves.every((c) => Number.isFinite(c[1])));
  assert.is(withDead.norms[1], 0, 'dead member: first-layer weight gradient exactly 0');
  assert.ok(healthy.norms[1] > 0 && withDead.norms[0] > 0 && withDead.norms[2] > 0);
});

test('per-model Hessians equal each model\'s own Hessian (float64 on the CPU)', async () => {
  const sizes = [1, 3, 2, 1];
  const gens = [new g.Generator(1), new g.Generator(2)];
  const ens = new g.MLPEnsemble(2, sizes, { device: 'cpu', dtype: 'float64', generators: gens });
  const x = g.linspace(-1, 1, 7, { device: 'cpu', dtype: 'float64' }).reshape(7, 1);
  const y = x.sin();
  const H = g.ensembleHessian(() => g.ensembleMSE(ens.forward(x), y).sum(), ens.parameters());
  const P = 3 * 1 + 3 + 2 * 3 + 2 + 1 * 2 + 1;
  assert.equal([...H.shape], [2, P, P]);
  for (let n = 0; n < 2; n++) {
    const m = ens.member(n);
    const h = g.hessian(() => new g.MSELoss().forward(m.forward(x), y), m.parameters());
    assertClose(await H.slice(0, n, n + 1).reshape(P, P).data(), await h.data(), { atol: 1e-10, rtol: 1e-8 }, `model ${n}`);
    m.dispose(); h.dispose();
  }
  H.dispose(); ens.dispose();
});

for (const device of allDevices()) {
  test(`${device}: ensemble Adam and ½‖∇L‖² steps leave no tensor behind`, async () => {
    const x = g.tensor(Float32Array.from({ length: 37 }, (_, i) => i / 18 - 1), { shape: [37, 1], device });
    const y = x.mul(3).sin();
    const ens = new g.MLPEnsemble(4, [1, 5, 10, 5, 1], { device, generators: [0, 1, 2, 3].map((i) => new g.Generator(i)) });
    const params = ens.parameters();
    const adam = new g.Adam(params, { lr: 1e-3 });
    const adamStep = () => g.tidy(() => { adam.zeroGrad(); g.ensembleMSE(ens.forward(x), y).sum().backward(); adam.step(); });
    const gnStep = () => g.tidy(() => {
      adam.zeroGrad();
      const grads = g.grad(g.ensembleMSE(ens.forward(x), y).sum(), params, { createGraph: true });
      g.perModelNorm(grads, { squared: true }).mul(0.5).sum().backward();
      adam.step();
    });
    for (const [name, step] of [['Adam', adamStep], ['½‖∇L‖²', gnStep]] as const) {
      step(); step(); // the moments and the gradients exist from here on
      await g.sync();
      const before = g.memory()[device];
      for (let i = 0; i < 5; i++) step();
      await g.sync();
      const after = g.memory()[device];
      assert.is(after.tensors, before.tensors, `${device} ${name}: live tensors ${before.tensors} → ${after.tensors}`);
      assert.is(after.bytes, before.bytes, `${device} ${name}: live bytes ${before.bytes} → ${after.bytes}`);
    }
    adam.zeroGrad();
    for (const t of [x, y]) t.dispose();
    ens.dispose(); adam.dispose();
  });
}

test('bad ensemble arguments give clear errors', () => {
  assert.throws(() => new g.MLPEnsemble(0, [1, 2]), /count must be a positive integer/);
  assert.throws(() => new g.MLPEnsemble(2, [1]), /sizes must list at least an input and an output width/);
  assert.throws(() => new g.MLPEnsemble(2, [1, 2], { generators: [new g.Generator(1)] }), /got 1 generators for 2 models/);
  const e = new g.MLPEnsemble(2, [3, 1], { device: 'cpu' });
  assert.throws(() => e.forward(g.zeros([4, 2], { device: 'cpu' })), /expects inputs \[B, 3\] or \[2, B, 3\], got \[4,2\]/);
  e.dispose();
});

test.run();
