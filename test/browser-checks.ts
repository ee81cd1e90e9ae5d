/**
 * The page that browser.test.ts opens in Chromium: the library's browser entry on the browser's WebGPU adapter,
 * checked against the CPU reference in the same page. One check per kernel family (every WGSL kernel file is reached),
 * one Hessian-vector product against float64 finite differences, and a few training steps of the 571-parameter MLP.
 * Shapes are odd and broadcast, and do not divide the workgroup sizes, as in the Node suites.
 */
import * as gg from '../src/browser.js';
import type { Tensor } from '../src/browser.js';
import { type Check, runChecks } from './browser-report.js';
import { assertClose, compareDevices, randomArray, sizeOf, testOp } from './compare.js';

const near = { atol: 1e-4, rtol: 1e-4 };
const input = (shape: number[], seed: number, lo = -2, hi = 2) => ({ data: randomArray(sizeOf(shape), seed, lo, hi), shape });
const ints = (values: number[], shape = [values.length]) => ({ data: values, shape, dtype: 'int32' as const });

const checks: Check[] = [
  {
    name: 'the default device is WebGPU on the browser\'s adapter (not the CPU fallback)',
    run: () => {
      if (!gg.hasWebGPU() || gg.getDevice() !== 'webgpu') throw new Error(`default device ${gg.getDevice()}: no WebGPU`);
      const info = gg.deviceInfo();
      if (!/^WebGPU: /.test(info)) throw new Error(`deviceInfo() is '${info}'`);
      return info;
    },
  },
  {
    name: 'fill and elementwise unary ops (exp, log, sqrt, tanh, sigmoid, relu, abs, sin, floor) match the CPU',
    run: () => compareDevices('unary', [input([7, 33], 1, 0.1, 3), input([5, 1, 13], 2)], (a, b) => [
      gg.fullLike(a, 3.5), a.exp(), a.log(), a.sqrt(), b.tanh(), b.sigmoid(), b.relu(), b.abs(), b.sin(), gg.floor(b),
    ], near),
  },
  {
    name: 'binary ops with broadcasting (add, sub, mul, div, pow, maximum, lt, eq) and where match the CPU',
    run: () => compareDevices('binary', [input([3, 1, 17], 3), input([1, 5, 17], 4, 0.5, 2), input([5, 1], 5)], (a, b, c) => [
      a.add(b), a.sub(c), a.mul(b), a.div(b), b.pow(2), gg.maximum(a, c), a.lt(b), a.eq(a), gg.where(a.gt(0), b, c),
    ], near),
  },
  {
    name: 'reductions (sum, max, mean over axes, argmax) and softmax match the CPU',
    run: () => compareDevices('reduce', [input([6, 37, 5], 6)], (x) => [
      x.sum(), gg.sum(x, 1), gg.max(x, [0, 2], true), gg.mean(x, 2), gg.argmax(x, 1), gg.softmax(x, -1),
    ], near),
  },
  {
    name: 'matmul (odd sizes, transposed and batched operands) and fusedLinear with bias and ReLU match the CPU',
    run: () => compareDevices('matmul', [input([65, 31], 7), input([31, 19], 8), input([3, 19, 31], 9), input([19], 10)], (a, b, w, bias) => [
      a.matmul(b), gg.transpose(b).matmul(gg.transpose(a)), gg.matmul(w, gg.transpose(a).unsqueeze(0)),
      gg.fusedLinear(a, gg.transpose(b), bias, { relu: true }),
    ], near),
  },
  {
    name: 'views made contiguous (permute, slice, expand) and concat match the CPU',
    run: () => compareDevices('views', [input([4, 7, 9], 11), input([4, 3, 9], 12)], (a, b) => [
      gg.contiguous(gg.permute(a, [2, 0, 1])), gg.contiguous(gg.slice(a, 1, 2, 6)), gg.concat([a, b], 1),
      gg.contiguous(gg.expand(gg.slice(a, 0, 0, 1), [3, 7, 9])),
    ], near),
  },
  {
    name: 'conv2d forward and both backward ops, and their first and second derivatives, match the float64 CPU',
    run: () => {
      const geom = gg.conv2dGeometry([2, 3, 9, 11], [5, 3, 3, 3], { stride: [2, 1], padding: 1 });
      const y = [geom.batch, geom.outC, geom.outH, geom.outW];
      return testOp('conv2d', [input([2, 3, 9, 11], 13), input([5, 3, 3, 3], 14), input(y, 15), input([5], 16)], (x, w, gy, b) => [
        gg.conv2d(x, w, b, { stride: [2, 1], padding: 1 }), gg.conv2dBackwardInput(gy, w, geom), gg.conv2dBackwardWeight(x, gy, geom),
      ], { forward: { atol: 2e-4, rtol: 2e-4 }, backward: { atol: 1e-3, rtol: 1e-3 } });
    },
  },
  {
    name: 'maxPool2d forward, its backward and the second-order pool gather match the CPU',
    run: () => compareDevices('maxPool2d', [input([2, 3, 9, 7], 17), input([2, 3, 5, 4], 18), input([2, 3, 9, 7], 19)], (x, gy, z) => {
      const pool = (t: Tensor) => gg.maxPool2d(t, 3, { stride: 2, padding: 1 });
      const dx = gg.grad((x) => pool(x).mul(gy).sum(), [x])[0];
      const gz = gg.grad((gy) => gg.grad((x) => pool(x).mul(gy).sum(), [x], { createGraph: true })[0].mul(z).sum(), [gy])[0];
      return [pool(x), dx, gz];
    }, { atol: 1e-6 }),
  },
  {
    name: 'crossEntropy (with first and second derivatives against the float64 CPU) and countCorrect match the CPU',
    run: async () => {
      const inputs = [input([37, 11], 20, -5, 5), ints(Array.from({ length: 37 }, (_, i) => (i * 7) % 11))];
      await testOp('crossEntropy', inputs, (l, y) => gg.crossEntropy(l, y), { forward: { atol: 2e-5, rtol: 1e-5 }, backward: { atol: 2e-5, rtol: 1e-4 } });
      await compareDevices('countCorrect', inputs, (l, y) => gg.countCorrect(l, y));
    },
  },
  {
    name: 'dropout draws the same seeded mask on both devices',
    run: () => compareDevices('dropout', [input([3, 1001], 21, 1, 2)], (x) => gg.dropout(x, 0.3, true, new gg.Generator(42)), { atol: 1e-6 }),
  },
  {
    name: 'a DataLoader assembles the same batches from bytes on WebGPU as on the CPU',
    run: async () => {
      const n = 23, shape = [1, 3, 5] as const, per = 15;
      const images = Uint8Array.from({ length: n * per }, (_, i) => (i * 31) % 256);
      const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
      const ds = new gg.ImageDataset({ name: 'bytes', images, labels, imageShape: shape, classes: 'abcdefghij'.split('') });
      const epoch = async (device: gg.DeviceName) => {
        const out: number[][] = [];
        for (const b of new gg.DataLoader(ds, { batchSize: 6, shuffle: true, seed: 3, device })) {
          out.push([...await b.x.data(), ...await b.y.data()]);
          b.dispose();
        }
        return out;
      };
      const [cpu, gpu] = [await epoch('cpu'), await epoch('webgpu')];
      ds.release();
      if (cpu.length !== gpu.length) throw new Error(`${gpu.length} batches on WebGPU, ${cpu.length} on the CPU`);
      cpu.forEach((c, i) => assertClose(gpu[i], c, { atol: 0, rtol: 0 }, `batch ${i}`));
    },
  },
  {
    name: 'an Adam step updates parameters as on the CPU',
    run: async () => {
      const after = async (device: gg.DeviceName) => {
        const p = gg.tensor(randomArray(41, 22), { shape: [41], device }).requiresGrad_();
        const opt = new gg.Adam([p], { lr: 0.01, weightDecay: 0.1 });
        for (let s = 0; s < 3; s++) {
          opt.zeroGrad();
          gg.tidy(() => p.mul(p).mul(gg.tensor(randomArray(41, 30 + s), { shape: [41], device })).sum().backward());
          opt.step();
        }
        const out = await p.data();
        p.grad?.dispose();
        p.dispose();
        opt.dispose();
        return out;
      };
      assertClose(await after('webgpu'), await after('cpu'), near, 'Adam');
    },
  },
  {
    name: 'a Hessian-vector product on WebGPU matches float64 finite differences of the gradient on the CPU',
    run: async () => {
      // L(W1, W2) = mean((tanh(X W1) W2 - Y)^2): H·v on WebGPU in float32, against (∇L(θ+εv) - ∇L(θ-εv)) / 2ε in float64
      const X = input([9, 4], 23), Y = input([9, 2], 24), W1 = input([4, 6], 25), W2 = input([6, 2], 26);
      const V1 = input([4, 6], 27), V2 = input([6, 2], 28);
      const loss = (x: Tensor, y: Tensor) => (w1: Tensor, w2: Tensor) => gg.mean(gg.square(x.matmul(w1).tanh().matmul(w2).sub(y)));
      const t = (i: { data: Float32Array; shape: number[] }, device: gg.DeviceName, dtype: gg.DType = 'float32') =>
        gg.tensor(i.data, { shape: i.shape, device, dtype });
      const got = await Promise.all(gg.hvp(loss(t(X, 'webgpu'), t(Y, 'webgpu')), [t(W1, 'webgpu').requiresGrad_(), t(W2, 'webgpu').requiresGrad_()],
        [t(V1, 'webgpu'), t(V2, 'webgpu')]).map((h) => h.data()));
      const eps = 1e-6;
      const gradAt = async (sign: number) => {
        const f = loss(t(X, 'cpu', 'float64'), t(Y, 'cpu', 'float64'));
        const w = [W1, W2].map((w, i) => t(w, 'cpu', 'float64').add(t([V1, V2][i], 'cpu', 'float64').mul(sign * eps)));
        return Promise.all(gg.grad(f, w).map((g) => g.data()));
      };
      const [plus, minus] = [await gradAt(1), await gradAt(-1)];
      got.forEach((h, k) => assertClose(h, plus[k].map((p, i) => (p - minus[k][i]) / (2 * eps)), { atol: 2e-4, rtol: 2e-3 }, `H·v, parameter ${k}`));
    },
  },
  {
    name: 'the 571-parameter MLP (1-5-10-10-10-10-10-5-1) trains on WebGPU: 30 Adam steps lower the loss',
    run: async () => {
      const generator = new gg.Generator(0);
      const widths = [1, 5, 10, 10, 10, 10, 10, 5, 1];
      const layers: gg.Module[] = [];
      widths.slice(1).forEach((w, i) => {
        layers.push(new gg.Linear(widths[i], w, { generator }));
        if (i < widths.length - 2) layers.push(new gg.ReLU());
      });
      const model = new gg.Sequential(...layers);
      if (model.numParameters() !== 571) throw new Error(`${model.numParameters()} parameters, not 571`);
      const { x, y } = gg.functionDataset('f1');
      const opt = new gg.Adam(model.parameters(), { lr: 0.01 });
      const losses: number[] = [];
      for (let s = 0; s < 30; s++) {
        opt.zeroGrad();
        const loss = gg.tidy(() => { const l = gg.mean(gg.square(model.forward(x).sub(y))); l.backward(); return l; });
        opt.step();
        losses.push((await loss.data())[0]);
        loss.dispose();
      }
      model.zeroGrad();
      x.dispose(); y.dispose(); model.dispose(); opt.dispose();
      const [first, last] = [losses[0], losses[losses.length - 1]];
      if (!(last < 0.8 * first)) throw new Error(`the loss went from ${first} to ${last}: ${losses.join(', ')}`);
      return `loss ${first.toPrecision(4)} → ${last.toPrecision(4)} on ${x.device}`;
    },
  },
  {
    name: 'no tensor is left alive after the checks',
    run: () => {
      const m = gg.memory();
      if (m.cpu.tensors + m.webgpu.tensors !== 0) throw new Error(`tensors left: ${JSON.stringify(m)}`);
    },
  },
];

/** Each check runs in its own memory scope: what it leaves behind is disposed, so the last check can count leaks of
 * the library (tensors kept alive by it), not of the checks' own intermediates. */
const scoped = (c: Check): Check => ({
  name: c.name,
  run: async () => {
    const scope = gg.startScope();
    try { return await c.run(); } finally { gg.endScope(scope); }
  },
});

await runChecks(checks.map(scoped));
