/** Every class of bad input gets a clear GpugradError naming the op, the shapes/dtypes/devices and the fix. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kernelProgram } from '../src/kernels/wgsl/program.js';
import { g, throwsGpugrad, webgpuAvailable } from './helpers.js';

test('matmul names both shapes and the mismatch', () => {
  const a = g.zeros([2, 3]), b = g.zeros([4, 5]);
  throwsGpugrad(() => a.matmul(b), /^matmul: shapes \[2,3\] and \[4,5\] do not align \(3 ≠ 4\)/);
  throwsGpugrad(() => g.zeros([2, 3, 4]).matmul(g.zeros([5, 4, 2])), /^matmul: batch dimensions of \[2,3,4\] and \[5,4,2\] do not broadcast \(\[2\] vs \[5\]\)/);
});

test('binary ops reject shapes that do not broadcast', () => {
  throwsGpugrad(() => g.zeros([2, 3]).add(g.zeros([4])), /^add: shapes \[2,3\] and \[4\] do not broadcast/);
});

test('mixed devices are refused with the fix', () => {
  if (!webgpuAvailable()) return;
  const a = g.zeros([2], { device: 'cpu' }), b = g.zeros([2], { device: 'webgpu' });
  throwsGpugrad(() => a.add(b), /add: tensors are on different devices \(cpu \[2\] and webgpu \[2\]\); move one with await t\.to/);
});

test('float-only ops on int32 tensors, and int32 gradients', () => {
  const i = g.tensor([1, 2], { dtype: 'int32' });
  throwsGpugrad(() => i.exp(), /^exp: needs a floating-point tensor, got int32/);
  throwsGpugrad(() => i.requiresGrad_(), /requiresGrad: only floating-point tensors/);
  throwsGpugrad(() => i.mean(), /^mean: needs a floating-point tensor/);
});

test('float64 is refused on WebGPU and allowed on the CPU', () => {
  g.zeros([2], { dtype: 'float64', device: 'cpu' });
  if (!webgpuAvailable()) return;
  throwsGpugrad(() => g.zeros([2], { dtype: 'float64', device: 'webgpu' }), /float64 is not available on webgpu/);
});

test('shape errors: reshape, axes, permute, expand, concat, item, ragged data', async () => {
  const x = g.zeros([2, 3]);
  throwsGpugrad(() => x.reshape(4, 2), /^reshape: cannot reshape \[2,3\] \(6 elements\) into \[4,2\]/);
  throwsGpugrad(() => x.reshape(-1, -1), /only one dimension can be -1/);
  throwsGpugrad(() => x.sum(2), /^sum: axis 2 is out of range for a tensor of 2 dimension\(s\)/);
  throwsGpugrad(() => x.sum([0, 0]), /repeat an axis/);
  throwsGpugrad(() => x.permute(0), /^permute: needs 2 dims/);
  throwsGpugrad(() => x.expand(2, 4), /^expand: cannot expand \[2,3\] to \[2,4\]/);
  throwsGpugrad(() => g.concat([x, g.zeros([3, 3])], 1), /^concat: shapes \[2,3\], \[3,3\] differ outside axis 1/);
  throwsGpugrad(() => g.tensor([[1, 2], [3]]), /^tensor: nested arrays are ragged/);
  throwsGpugrad(() => g.tensor([1, 2, 3], { shape: [2, 2] }), /3 values do not fill shape \[2,2\]/);
  throwsGpugrad(() => g.zeros([-1]), /shape \[-1\] must be a list of non-negative integers/);
  throwsGpugrad(() => g.zeros([2, 0]).max(1), /^max: cannot take the max over an empty axis/);
  try { await x.item(); throw new Error('no error'); } catch (e) { if (!(e instanceof g.GpugradError)) throw e; }
});

test('use after dispose throws and says why', () => {
  const x = g.ones([3]);
  x.dispose();
  throwsGpugrad(() => x.add(1), /tensor #\d+ \[3\] was used after dispose\(\)/);
});

test('bad device names and tidy with async functions', () => {
  throwsGpugrad(() => g.setDevice('tpu' as g.DeviceName), /device 'tpu' is not a device/);
  throwsGpugrad(() => g.tidy(async () => 1), /tidy: the function returned a Promise/);
});

test('view reshapes without copying, and refuses a tensor that would need a copy', async () => {
  const x = g.tensor([[1, 2, 3], [4, 5, 6]], { device: 'cpu' });
  const v = x.view(3, 2);
  assert.equal(await v.toArray(), [[1, 2], [3, 4], [5, 6]]);
  assert.is(v.storage, x.storage, 'a view shares the storage');
  throwsGpugrad(() => x.T.view(6), /^view: the tensor \[3,2\] is not contiguous .*use reshape\(\)/);
});

test('tensor(): data that is not numbers, ragged at any depth, a bad dtype', () => {
  throwsGpugrad(() => g.tensor('abc' as never), /^tensor: data must be a number, an array \(nested for more dimensions\) or a typed array, got string "abc"/);
  throwsGpugrad(() => g.tensor(undefined as never), /^tensor: data must be .* got undefined/);
  throwsGpugrad(() => g.tensor(null as never), /got null/);
  throwsGpugrad(() => g.tensor({} as never), /got object/);
  // ragged where the element count still matches the first entries' shape (2 × 1 × 1 = 2 numbers)
  throwsGpugrad(() => g.tensor([[[1]], [2]]), /^tensor: nested arrays are ragged: data\[1\]\[0\] has a value where shape \[2,1,1\]/);
  throwsGpugrad(() => g.tensor([[1, 2], 3] as never), /ragged: data\[1\] has a value where shape \[2,2\]/);
  throwsGpugrad(() => g.tensor([1, [2, 3]] as never), /ragged: data\[1\] has 2 entries where shape \[2\] .* wants a number/);
  throwsGpugrad(() => g.tensor([1, 'a'] as never), /^tensor: element 1 is string, not a number/);
  throwsGpugrad(() => g.tensor([1, 2], { dtype: 'f32' as never }), /^tensor: dtype "f32" is not a dtype \(use one of float32, int32, float64\)/);
  throwsGpugrad(() => g.zeros([2]).cast('half' as never), /^cast: dtype "half" is not a dtype/);
  throwsGpugrad(() => g.full([2], 'a' as never), /^full: the fill value must be a number, got string/);
  throwsGpugrad(() => g.arange(0, 1e12), /^arange: that is 1000000000000 elements; a tensor holds at most 2\^31 − 1/);
  throwsGpugrad(() => g.zeros([1e6, 1e6]), /^full: shape \[1000000,1000000\] has 1000000000000 elements/);
  throwsGpugrad(() => g.randn([2], { dtype: 'int32' }), /^randn: draws floating-point numbers; for integers use randint/);
  throwsGpugrad(() => g.manualSeed('a' as never), /^seed: the seed must be an integer, got string/);
  throwsGpugrad(() => g.zeros([2, 2]).sum('a' as never), /^sum: axes must be a number or a list of numbers, got "a"/);
});

test('autograd: hvp, hessian, tidy and noGrad with missing or wrong arguments', async () => {
  const p = g.tensor([1, 2], { requiresGrad: true });
  const f = (q: g.Tensor) => q.mul(q).sum();
  throwsGpugrad(() => g.hvp(f, [p], undefined as never), /^hvp: v must be an array of tensors, one per parameter \(the direction of H·v\), got undefined/);
  throwsGpugrad(() => g.hvp(f, [p], [g.zeros([3])]), /^hvp: v must have one tensor per parameter with the same shapes: parameters \[2\], v \[3\]/);
  throwsGpugrad(() => g.hvp('f' as never, [p], [p]), /^hvp: the first argument must be the function to differentiate, got string/);
  throwsGpugrad(() => g.hessian(f, [undefined as never]), /^hessian: parameter 0 is not a Tensor/);
  throwsGpugrad(() => g.tidy(undefined as never), /^tidy: needs a function, got undefined/);
  throwsGpugrad(() => g.noGrad(undefined as never), /^noGrad: needs a function, got undefined/);
  const dot = await g.toDot(undefined as never).then(() => null, (e: unknown) => e);
  assert.instance(dot, g.GpugradError);
  assert.match(String(dot), /toDot: needs a Tensor, got undefined/);
  throwsGpugrad(() => g.defineRule('myOp', undefined as never), /^defineRule: needs an op name and a rule function/);
  const before = g.getDevice();
  throwsGpugrad(() => g.setDevice(undefined as never), /^setDevice: needs a device name/);
  g.setDevice(before);
});

test('nn and data: layers, losses, state dicts and loaders refuse what is not theirs', () => {
  const lin = new g.Linear(2, 3);
  throwsGpugrad(() => lin.forward(undefined as never), /^linear: input must be a Tensor, got undefined/);
  throwsGpugrad(() => g.F.mseLoss(g.zeros([2]), undefined as never), /^mseLoss: the target must be a Tensor, got undefined/);
  throwsGpugrad(() => new g.Conv2d(1, 1, 0), /^Conv2d: kernelSize must be an integer ≥ 1 or a pair of them, got 0/);
  throwsGpugrad(() => new g.MaxPool2d([2, -1]), /^MaxPool2d: kernelSize must be an integer ≥ 1 or a pair of them, got \[2,-1\]/);
  throwsGpugrad(() => lin.loadStateDict(undefined as never), /^loadStateDict: needs a state dict/);
  throwsGpugrad(() => lin.loadStateDict({ weight: 1, bias: 2 } as never), /^loadStateDict: 'weight' is not a Tensor/);
  throwsGpugrad(() => new g.SGD(undefined as never, { lr: 0.1 }), /^SGD: params must be an iterable of tensors \(model.parameters\(\)\), got undefined/);
  throwsGpugrad(() => new g.SGD(lin.parameters(), undefined as never), /^SGD: lr, momentum and weightDecay must be ≥ 0 \(got undefined/);
  throwsGpugrad(() => new g.DataLoader(undefined as never, { batchSize: 2 }), /^DataLoader: the first argument must be an ImageDataset, got undefined/);
  throwsGpugrad(() => new g.MLPEnsemble(2, undefined as never), /^MLPEnsemble: sizes must list/);
  throwsGpugrad(() => g.perModelNorm(undefined as never), /^perModelNorm: needs a non-empty array of tensors/);
  throwsGpugrad(() => g.copyInto(g.zeros([2]), undefined as never), /^copyInto: the source must be a Tensor, got undefined/);
  throwsGpugrad(() => g.randomLabels(undefined as never, undefined as never), /^randomLabels: needs an ImageDataset/);
  throwsGpugrad(() => g.encodeSafetensors(undefined as never), /^save: needs an object of tensors by name/);
  throwsGpugrad(() => g.decodeSafetensors('abc' as never), /^load: decodeSafetensors needs the file's bytes \(a Uint8Array\), got string/);
});

test('more of the sweep: files, devices, stacks, flatten, pooling, ensembles, gradcheck, optimizer state', async () => {
  const rejects = async (p: Promise<unknown>, pattern: RegExp, what: string) => {
    const e = await p.then(() => null, (err: unknown) => err);
    assert.instance(e, g.GpugradError, `${what}: ${String(e)}`);
    assert.match(String(e), pattern, what);
  };
  const x = g.zeros([2, 2]);
  await rejects(g.load('/nonexistent/w.safetensors'), /^GpugradError: load: cannot read \/nonexistent\/w\.safetensors: ENOENT/, 'load missing');
  await rejects(g.load(undefined as never), /load: needs a file path, got undefined/, 'load undefined');
  await rejects(g.save({ x }, undefined as never), /save: needs a file path/, 'save undefined');
  await rejects(g.save({ x }, '/nonexistent/dir/w.safetensors'), /save: cannot write \/nonexistent\/dir\/w\.safetensors: ENOENT/, 'save');
  await rejects(x.to(undefined as never), /to: needs a device name/, 'to');
  throwsGpugrad(() => g.stack([x, 1 as never]), /^stack: element 1 must be a Tensor, got number/);
  throwsGpugrad(() => new g.Flatten().forward(undefined as never), /^Flatten: input must be a Tensor/);
  throwsGpugrad(() => g.F.maxPool2d(g.zeros([1, 1, 4, 4]), undefined as never), /^maxPool2d: kernelSize must be an integer ≥ 1 or a pair of them, got undefined/);
  throwsGpugrad(() => g.ensembleCrossEntropy(undefined as never, undefined as never), /^ensembleCrossEntropy: logits must be a Tensor/);
  throwsGpugrad(() => g.ensembleHessian(undefined as never, undefined as never), /^ensembleHessian: needs the loss as a function/);
  await rejects(g.gradcheck((a: g.Tensor) => a.sum(), undefined as never), /gradcheck: inputs must be an array of tensors/, 'gradcheck');
  throwsGpugrad(() => new g.Adam([g.zeros([2], { requiresGrad: true })]).loadStateDict(undefined as never),
    /^Adam.loadStateDict: needs a state from stateDict\(\)/);
});

test('an optimizer step with a wrongly shaped or typed .grad changes nothing (Adam, SGD with and without momentum)', async () => {
  const optimizers = (ps: g.Tensor[]) => [new g.Adam(ps, { lr: 0.1 }), new g.SGD(ps, { lr: 0.1, momentum: 0.9 }), new g.SGD(ps, { lr: 0.1 })];
  for (const device of ['cpu', ...(webgpuAvailable() ? ['webgpu' as const] : [])] as g.DeviceName[]) {
    const w = g.tensor([[1, 2], [3, 4]], { device, requiresGrad: true });
    const b = g.tensor([5, 6], { device, requiresGrad: true });
    for (const opt of optimizers([w, b])) {
      const name = opt.constructor.name;
      for (const bad of [g.zeros([4], { device }), g.zeros([2, 2], { device, dtype: 'int32' })]) {
        w.grad = g.ones([2, 2], { device });
        b.grad = bad; // the second parameter's gradient is the bad one: the first must not have moved either
        throwsGpugrad(() => opt.step(), new RegExp(`^${name}.step: parameter 1 is float32 \\[2\\] on ${device} but its .grad is ${bad.dtype} ${bad.dtype === 'int32' ? '\\[2,2\\]' : '\\[4\\]'}`), `${name} ${device}`);
        assert.equal(await w.toArray(), [[1, 2], [3, 4]], `${name} ${device}: the first parameter did not move`);
        assert.is(opt.stepCount, 0, `${name}: the step was not counted`);
        opt.zeroGrad();
      }
    }
  }
});

test('countCorrect refuses labels outside [0, classes) on both devices', async () => {
  for (const device of ['cpu', ...(webgpuAvailable() ? ['webgpu' as const] : [])] as g.DeviceName[]) {
    const logits = g.tensor([[1, 2], [3, 0]], { device });
    for (const y of [5, -1]) {
      const labels = g.tensor([1, y], { device, dtype: 'int32' });
      let err: unknown = null;
      try { await g.countCorrect(logits, labels).item(); } catch (e) { err = e; }
      assert.instance(err, g.GpugradError, `${device} label ${y}`);
      assert.match(String(err), new RegExp(`countCorrect: label ${y} of row 1 is out of range for 2 classes`), device);
    }
    // the device is usable afterwards, and a good call counts
    assert.is(await g.countCorrect(logits, g.tensor([1, 0], { device, dtype: 'int32' })).item(), 2);
  }
});

test('WebGPU: a tensor over the device\'s buffer limit is refused where it is made, losing nothing', async () => {
  if (!webgpuAvailable()) return;
  const rt = g.webgpuRuntime()!;
  const limit = Math.min(rt.device.limits.maxBufferSize, rt.device.limits.maxStorageBufferBindingSize);
  const n = Math.floor(limit / 4) + 1;
  if (n > 2 ** 31 - 1) return; // this device's limit is beyond what a tensor may hold anyway
  const before = { ...g.memory().webgpu };
  throwsGpugrad(() => g.zeros([n], { device: 'webgpu' }),
    new RegExp(`^webgpu: ${n * 4} bytes \\(${n} elements of 4 bytes\\) do not fit in one buffer on this device: its max\\w+ is ${limit} bytes`));
  // an op whose output (a broadcast) is over the limit, from small inputs
  const k = 2 ** 15;
  const a = g.zeros([k, 1], { device: 'webgpu' }), b = g.ones([1, Math.ceil(n / k)], { device: 'webgpu' });
  throwsGpugrad(() => a.add(b), /do not fit in one buffer on this device/);
  // nothing half-made is left, and the next, unrelated read is not poisoned
  const total = b.sum();
  assert.is(await total.item(), Math.ceil(n / k));
  for (const t of [a, b, total]) t.dispose();
  assert.is(g.memory().webgpu.tensors, before.tensors);
  assert.ok(rt.storage.allocatedBytes <= before.allocatedBytes! + (1 << 20), 'no oversized buffer was created');
});

test('WebGPU: a device error surfaces at the next sync as a GpugradError naming its first cause; the device goes on', async () => {
  if (!webgpuAvailable()) return;
  const rt = g.webgpuRuntime()!;
  const out = rt.storage.acquire(16);
  const broken = kernelProgram({ key: 'test:broken-kernel', inputs: [], outputs: [{ name: 'o', type: 'f32' }],
    uniforms: { n: 'u32' }, helpers: 'this is not WGSL', entry: { linear: '' } });
  rt.dispatch(broken, [out], { n: 0 }, 1);
  let err: unknown = null;
  try { await rt.sync(); } catch (e) { err = e; }
  rt.storage.release(out);
  assert.instance(err, g.GpugradError);
  assert.match(String(err), /webgpu: the device rejected work recorded since the last sync: .*/);
  assert.match(String(err), /test:broken-kernel/, 'the first error (the shader module, by its label), not its echoes');
  assert.match(String(err), /later errors? caused by it/);
  assert.equal(Array.from(await g.ones([3], { device: 'webgpu' }).add(1).data()), [2, 2, 2]);
});

test.run();
