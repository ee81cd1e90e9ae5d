/** Every class of bad input gets a clear GpugradError naming the op, the shapes/dtypes/devices and the fix. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
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

test.run();
