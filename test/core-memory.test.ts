/** Deterministic memory: dispose, tidy scopes, views sharing storage, and the buffer pool reusing released buffers. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allDevices, g, webgpuAvailable } from './helpers.js';

const devices = (): g.DeviceName[] => allDevices();

test('tidy disposes everything but what it returns, and memory() returns to its level', () => {
  for (const device of devices()) {
    const before = g.memory()[device];
    const kept = g.tidy(() => {
      const a = g.rand([64, 64], { device });
      const b = a.matmul(a).relu().add(1);
      b.sum();
      return b.mean(0);
    });
    const mid = g.memory()[device];
    assert.is(mid.tensors, before.tensors + 1, `${device}: only the returned tensor survives`);
    kept.dispose();
    const after = g.memory()[device];
    assert.is(after.tensors, before.tensors, `${device}: tensors back to the start`);
    assert.is(after.bytes, before.bytes, `${device}: bytes back to the start`);
  }
});

test('nested tidy hands returned tensors to the outer scope; keep() escapes all scopes', () => {
  for (const device of devices()) {
    const before = g.memory()[device].tensors;
    let escaped: g.Tensor | null = null;
    g.tidy(() => {
      const inner = g.tidy(() => g.ones([3], { device }).mul(2));
      assert.not.ok(inner.isDisposed);
      escaped = g.keep(g.zeros([2], { device }));
      return undefined;
    });
    assert.ok(escaped);
    assert.not.ok(escaped!.isDisposed);
    assert.is(g.memory()[device].tensors, before + 1);
    escaped!.dispose();
    assert.is(g.memory()[device].tensors, before);
  }
});

test('tidy disposes what fn created when fn throws, keeps what it kept, and rethrows', () => {
  for (const device of devices()) {
    const before = g.memory()[device];
    let kept: g.Tensor | null = null;
    let inner: g.Tensor | null = null;
    const boom = new Error('boom');
    try {
      g.tidy(() => {
        const a = g.rand([16, 16], { device });
        inner = g.tidy(() => a.matmul(a)); // handed to the outer scope, so the outer failure disposes it too
        kept = g.keep(a.add(1));
        a.relu().sum();
        throw boom;
      });
      assert.unreachable('tidy swallowed the error');
    } catch (e) {
      assert.is(e, boom, 'the original error propagates');
    }
    assert.ok(inner!.isDisposed, `${device}: a tensor created inside is disposed`);
    assert.not.ok(kept!.isDisposed, `${device}: a kept tensor survives`);
    assert.is(g.memory()[device].tensors, before.tensors + 1, `${device}: only the kept tensor is left`);
    kept!.dispose();
    assert.is(g.memory()[device].bytes, before.bytes, `${device}: bytes back to the start`);
    // the scope is closed: a tensor created now belongs to no scope left open by the failure
    const t = g.tidy(() => g.ones([2], { device }));
    assert.not.ok(t.isDisposed);
    t.dispose();
  }
});

test('views share storage: the storage lives until its last view is disposed', async () => {
  for (const device of devices()) {
    const base = g.tensor([1, 2, 3, 4, 5, 6], { device });
    const v = base.reshape(2, 3).transpose(0, 1);
    const bytesWithViews = g.memory()[device].bytes;
    base.dispose();
    assert.is(g.memory()[device].bytes, bytesWithViews, 'storage still held by the views');
    assert.equal(await v.toArray(), [[1, 4], [2, 5], [3, 6]]);
    v.dispose();
  }
});

test('WebGPU: released buffers are reused (no growth over repeated steps) and one submit per batch', async () => {
  if (!webgpuAvailable()) return;
  const rt = g.webgpuRuntime()!;
  const x = g.rand([128, 128], { device: 'webgpu' });
  const step = () => g.tidy(() => x.matmul(x).relu().sum().mul(0.5));
  for (let i = 0; i < 3; i++) (await step().data(), undefined);
  const allocated = rt.storage.allocatedBytes;
  const submits = rt.stats.submits;
  const results: g.Tensor[] = [];
  for (let i = 0; i < 20; i++) results.push(step());
  assert.is(rt.stats.submits, submits, 'recording ops submits nothing');
  const values = await Promise.all(results.map((r) => r.item()));
  assert.ok(rt.stats.submits - submits <= 2, `reading back 20 results took ${rt.stats.submits - submits} submits`);
  assert.ok(values.every((v) => v === values[0]));
  for (const r of results) r.dispose();
  for (let i = 0; i < 10; i++) { const r = step(); await r.data(); r.dispose(); }
  assert.ok(rt.storage.allocatedBytes <= allocated + 64 * 1024, `pool grew from ${allocated} to ${rt.storage.allocatedBytes}`);
  x.dispose();
});

test('a reused buffer is not overwritten by an upload before earlier recorded work reads it', async () => {
  if (!webgpuAvailable()) return;
  const a = g.tensor([1, 2, 3, 4], { device: 'webgpu' });
  const b = a.mul(10); // recorded, not submitted
  a.dispose(); // a's buffer goes back to the pool...
  const c = g.tensor([100, 200, 300, 400], { device: 'webgpu' }); // ...and may be reused by this upload
  assert.equal(await b.toArray(), [10, 20, 30, 40]);
  assert.equal(await c.toArray(), [100, 200, 300, 400]);
});

test.run();
