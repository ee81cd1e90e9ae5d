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
    let escaped = null as g.Tensor | null; // assigned in the callback: not narrowed to null
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

// Every composite op (one built from other ops, or from intermediate views or copies) called outside any tidy scope
// leaves exactly one new live tensor, its result: the intermediates are released inside the op.
test('composite ops outside tidy leave only their result alive', () => {
  for (const device of devices()) {
    const o = { device };
    const x = g.rand([3, 4], o), y = g.rand([3, 4], o), v = g.rand([4], o);
    const xt = x.transpose(0, 1), yt = y.transpose(0, 1); // non-contiguous views
    const pred = g.rand([2, 3, 1], o), target = g.rand([3, 1], o), logits = g.rand([2, 3, 5], o);
    const labels = g.tensor([0, 4, 2], { ...o, dtype: 'int32' }), mask = g.tensor([[1, 1, 0], [1, 0, 1]], o);
    const lin = new g.Linear(4, 2, o), net = new g.Sequential(new g.Linear(4, 3, o), new g.ReLU(), new g.Linear(3, 2, o));
    for (const p of [...lin.parameters(), ...net.parameters()]) p.requiresGrad_(false); // the no-graph case: nothing holds intermediates
    const cases: [string, () => g.Tensor][] = [
      ['stack', () => g.stack([x, y, x], 0)],
      ['stack (inner axis, transposed inputs)', () => g.stack([xt, yt], 1)],
      ['concat', () => g.concat([x, y], 1)],
      ['reshape of a transposed view', () => xt.reshape(12)],
      ['softmax', () => g.softmax(x, 1)],
      ['logSoftmax', () => g.logSoftmax(x, 0)],
      ['mean', () => x.mean(1)],
      ['matmul of a vector', () => x.matmul(v)],
      ['linear', () => g.F.linear(x, lin.weight, lin.bias)],
      ['linear without bias', () => g.F.linear(x, lin.weight)],
      ['mseLoss', () => g.F.mseLoss(x, y)],
      ['mseLoss (sum)', () => g.F.mseLoss(x, y, 'sum')],
      ['Sequential', () => net.forward(x)],
      ['ensembleMSE', () => g.ensembleMSE(pred, target)],
      ['perModelNorm', () => g.perModelNorm([pred, logits])],
      ['perModelNorm (squared)', () => g.perModelNorm([logits], { squared: true })],
      ['ensembleCrossEntropy', () => g.ensembleCrossEntropy(logits, labels)],
      ['ensembleCountCorrect', () => g.ensembleCountCorrect(logits, labels)],
      ['ensembleMaskedMSE', () => g.ensembleMaskedMSE(pred, target, mask)],
    ];
    const leaks: string[] = [];
    for (const [what, op] of cases) {
      op().dispose(); // a first call may fill caches (constants), which memory() does not count anyway
      const before = g.memory()[device];
      const out = op();
      const alive = g.memory()[device].tensors - before.tensors;
      out.dispose();
      const after = g.memory()[device];
      if (alive !== 1 || after.tensors !== before.tensors || after.bytes !== before.bytes) {
        leaks.push(`${what}: ${alive} tensors alive after the call, ${after.tensors - before.tensors} tensors and ` +
          `${after.bytes - before.bytes} bytes after disposing the result`);
      }
    }
    assert.equal(leaks, [], `${device}: composite ops that leak`);
    for (const t of [x, y, xt, yt, v, pred, target, logits, labels, mask]) t.dispose();
    lin.dispose();
    net.dispose();
  }
});

// The other half of releasing intermediates: one that a recorded graph reads in backward (an operand without a
// gradient of an op whose other operand has one) must stay alive until the caller's scope ends.
test('composite ops keep the intermediates their graph needs: backward after the call works', async () => {
  for (const device of devices()) {
    const o = { device };
    const before = g.memory()[device].tensors;
    g.tidy(() => {
      const x = g.rand([3, 4], o), v = g.rand([4], o), w = g.rand([4, 2], o).requiresGrad_();
      const pred = g.rand([2, 3, 1], o).requiresGrad_(), logits = g.rand([2, 3, 5], o).requiresGrad_();
      const mask = g.tensor([[1, 1, 0], [1, 0, 1]], o), labels = g.tensor([0, 4, 2], { ...o, dtype: 'int32' });
      const net = new g.Sequential(new g.Linear(4, 3, o), new g.ReLU(), new g.Linear(3, 2, o));
      const cases: [string, () => g.Tensor, g.Tensor[]][] = [
        ['matmul of a vector without gradient', () => v.matmul(w), [w]],
        ['Sequential on inputs without gradient', () => net.forward(x), net.parameters()],
        ['ensembleMaskedMSE', () => g.ensembleMaskedMSE(pred, g.zeros([3, 1], o), mask), [pred]],
        ['ensembleCrossEntropy', () => g.ensembleCrossEntropy(logits, labels), [logits]],
      ];
      for (const [what, op, params] of cases) {
        op().sum().backward();
        for (const p of params) assert.ok(p.grad && !p.grad.isDisposed, `${device} ${what}: a gradient reached the parameters`);
      }
      net.dispose();
      return undefined;
    });
    assert.is(g.memory()[device].tensors, before, `${device}: the scope freed what the graphs held`);
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
