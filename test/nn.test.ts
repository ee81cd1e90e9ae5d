/** nn modules: PyTorch's init and state-dict keys, train/eval, the layers and losses against their definitions. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, compareDevices, g, throwsGpugrad, webgpuAvailable } from './helpers.js';
import { mlp } from './autograd-fixtures.js';

g.setDevice('cpu');

test('Linear: shapes, PyTorch default init U(±1/√fan_in) for weight and bias, seeded', async () => {
  const l = new g.Linear(25, 40, { generator: new g.Generator(3) });
  assert.equal([...l.weight.shape], [40, 25]);
  assert.equal([...l.bias!.shape], [40]);
  const w = await l.weight.data(), b = await l.bias!.data();
  const bound = 1 / 5;
  for (const v of [...w, ...b]) assert.ok(Math.abs(v) <= bound, `${v} outside ±${bound}`);
  assert.ok(Math.max(...w) > 0.9 * bound && Math.min(...w) < -0.9 * bound, 'the whole range is used');
  assert.ok(Math.abs(Array.from(w).reduce((a, v) => a + v, 0) / w.length) < 0.02, 'centred');
  const again = new g.Linear(25, 40, { generator: new g.Generator(3) });
  assert.equal(Array.from(await again.weight.data()), Array.from(w), 'same seed, same weights');
  assert.ok(l.weight.requiresGrad && l.weight.isLeaf);
  assert.is(new g.Linear(3, 2, { bias: false }).bias, null);
});

test('Sequential: PyTorch keys, 571 parameters for the 1-5-10-10-10-10-10-5-1 MLP, toString', () => {
  const model = mlp('cpu');
  assert.is(model.numParameters(), 571);
  const keys = Object.keys(model.stateDict());
  assert.equal(keys.slice(0, 4), ['0.weight', '0.bias', '2.weight', '2.bias']);
  assert.is(keys[keys.length - 1], '14.bias');
  assert.is(keys.length, 16);
  assert.is(model.parameters().length, 16);
  assert.match(model.toString(), /^Sequential\(\n {2}\(0\): Linear\(inFeatures=1, outFeatures=5, bias=true\)\n {2}\(1\): ReLU\(\)/);
  const nested = new g.Sequential(new g.Sequential(new g.Linear(2, 2)), new g.ReLU(), new g.Linear(2, 1));
  assert.equal(nested.namedParameters().map(([k]) => k), ['0.0.weight', '0.0.bias', '2.weight', '2.bias']);
});

test('the same seed gives the same model on both devices', async () => {
  if (!webgpuAvailable()) return;
  const a = mlp('cpu', 'float32'), b = mlp('webgpu');
  for (const [i, p] of a.parameters().entries()) assert.equal(Array.from(await b.parameters()[i].data()), Array.from(await p.data()));
});

test('loadStateDict copies in place; strict key and shape checks', async () => {
  const a = mlp('cpu', 'float32', 1), b = mlp('cpu', 'float32', 2);
  const w = b.parameters()[0];
  b.loadStateDict(a.stateDict());
  assert.is(b.parameters()[0], w, 'the parameter object is kept (optimizers hold it)');
  const x = g.tensor([[0.3], [-2]]);
  assert.equal(Array.from(await b.forward(x).data()), Array.from(await a.forward(x).data()));
  const { ['0.bias']: _, ...partial } = a.stateDict();
  throwsGpugrad(() => b.loadStateDict(partial), /missing \["0\.bias"\]/, 'missing key');
  assert.equal(b.loadStateDict({ ...partial, extra: g.zeros([1]) }, { strict: false }), { missing: ['0.bias'], unexpected: ['extra'] });
  throwsGpugrad(() => b.loadStateDict({ ...a.stateDict(), '0.weight': g.zeros([3, 1]) }), /'0\.weight' has shape \[3,1\].*\[5,1\]/, 'shape');
  const f64 = mlp('cpu', 'float64', 1);
  b.loadStateDict(f64.stateDict()); // float64 values are converted
  assertClose(await b.parameters()[2].data(), await a.parameters()[2].data(), { atol: 1e-7 });
});

test('train/eval reach every child; Dropout drops only in training', async () => {
  const drop = new g.Dropout(0.5, new g.Generator(1));
  const model = new g.Sequential(new g.Linear(4, 4), drop);
  model.eval();
  assert.is(drop.training, false);
  const x = g.ones([200]);
  assert.equal(Array.from(await drop.forward(x).data()), Array.from(await x.data()));
  model.train();
  const y = await drop.forward(x).data();
  assert.ok(y.every((v) => v === 0 || v === 2), 'kept values are scaled by 1/(1−p)');
  const kept = y.filter((v) => v === 2).length;
  assert.ok(kept > 70 && kept < 130, `about half kept, got ${kept}`);
  throwsGpugrad(() => new g.Dropout(1.5), /p must be in/, 'p');
});

test('ReLU, Flatten, MSELoss, CrossEntropyLoss against their definitions', async () => {
  const x = g.tensor([[-1, 2], [3, -4]]);
  assert.equal(await new g.ReLU().forward(x).toArray(), [[0, 2], [3, 0]]);
  assert.equal([...new g.Flatten().forward(g.zeros([2, 3, 4, 5])).shape], [2, 60]);
  const pred = g.tensor([1, 2, 3]), target = g.tensor([1.5, 2, 1]);
  assertClose([await new g.MSELoss().forward(pred, target).item()], [(0.25 + 0 + 4) / 3]);
  assertClose([await new g.MSELoss('sum').forward(pred, target).item()], [4.25]);
  throwsGpugrad(() => new g.MSELoss().forward(pred, g.zeros([3, 1])), /same shape/, 'mse shapes');
  const logits = g.tensor([[1, 2, 0.5], [0.1, -1, 3]]), labels = g.tensor([1, 2], { dtype: 'int32' });
  const ls = await logits.logSoftmax(-1).toArray() as number[][];
  assertClose([await new g.CrossEntropyLoss().forward(logits, labels).item()], [-(ls[0][1] + ls[1][2]) / 2], { atol: 1e-6 });
});

test('Linear names the features when the input does not fit', () => {
  throwsGpugrad(() => new g.Linear(3, 2).forward(g.zeros([4, 5])), /last dimension is 5.*expects 3 features/, 'linear');
});

test('Conv2d and MaxPool2d: PyTorch shapes and init, forward as the functional ops', async () => {
  const conv = new g.Conv2d(4, 6, 3, { groups: 2, padding: 1, generator: new g.Generator(5) });
  assert.equal([...conv.weight.shape], [6, 2, 3, 3]);
  const bound = 1 / Math.sqrt(2 * 9);
  for (const v of await conv.weight.data()) assert.ok(Math.abs(v) <= bound);
  const x = g.rand([2, 4, 5, 5], { generator: new g.Generator(6) });
  const y = conv.forward(x);
  assert.equal([...y.shape], [2, 6, 5, 5]);
  assert.equal(Array.from(await y.data()), Array.from(await g.conv2d(x, conv.weight, conv.bias, { padding: 1, groups: 2 }).data()));
  const pool = new g.MaxPool2d(2);
  assert.equal([...pool.forward(y).shape], [2, 6, 2, 2]);
  throwsGpugrad(() => new g.Conv2d(3, 4, 3, { groups: 2 }), /divisible by groups/, 'groups');
});

test('a small CNN: forward and parameter gradients on WebGPU equal the CPU', async () => {
  await compareDevices('cnn', [
    { data: Float32Array.from({ length: 2 * 1 * 8 * 8 }, (_, i) => Math.sin(i)), shape: [2, 1, 8, 8] },
  ], (x) => {
    const model = new g.Sequential(
      new g.Conv2d(1, 3, 3, { device: x.device, generator: new g.Generator(9) }), new g.ReLU(), new g.MaxPool2d(2),
      new g.Flatten(), new g.Linear(27, 4, { device: x.device, generator: new g.Generator(10) }));
    const labels = g.tensor([3, 1], { dtype: 'int32', device: x.device });
    const loss = new g.CrossEntropyLoss().forward(model.forward(x), labels);
    loss.backward();
    const out = [loss, ...model.parameters().map((p) => p.grad!)];
    return out;
  }, { atol: 1e-5, rtol: 1e-4 });
});

test.run();
