/**
 * First-order gradients of every recorded op against float64 finite differences on the CPU (gradcheck), including
 * broadcasting both ways, reductions over several axes, batched matmul with broadcast batches, and views.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { g } from './helpers.js';
import { leaf64 } from './autograd-fixtures.js';
import { getRule } from '../src/autograd/index.js';
import type { Tensor } from '../src/index.js';

const check = (fn: (...xs: Tensor[]) => Tensor, ...inputs: Tensor[]) => g.gradcheck(fn, inputs);

test('every op the tensor floor records has a backward rule', () => {
  // op names recorded literally (record('name', ...)) in src/tensor/ops, plus the unary/binary families
  const dir = join(process.cwd(), 'src/tensor/ops'); // the tests run from the repository root
  const literal = readdirSync(dir).filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/record\(['"](\w+)['"]/g)].map((m) => m[1]));
  const families = ['neg', 'abs', 'exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'square', 'reciprocal',
    'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'];
  const rules = new Set(g.definedRules());
  for (const op of [...literal, ...families]) assert.ok(rules.has(op), `no backward rule for '${op}'`);
  assert.ok(literal.includes('matmul') && literal.includes('slice'), 'the scan found the recorded ops');
});

const unary: [string, number, number][] = [
  ['neg', -2, 2], ['abs', 0.1, 2], ['exp', -2, 2], ['log', 0.2, 3], ['sqrt', 0.2, 3], ['sin', -3, 3], ['cos', -3, 3],
  ['tanh', -2, 2], ['sigmoid', -3, 3], ['relu', 0.1, 2], ['square', -2, 2], ['reciprocal', 0.3, 2],
];
for (const [op, lo, hi] of unary) {
  test(`gradcheck ${op}`, async () => {
    const x = leaf64([2, 3], 1, lo, hi);
    assert.ok(await check((a) => (a as unknown as Record<string, () => Tensor>)[op](), x));
    if (op === 'abs' || op === 'relu') assert.ok(await check((a) => (a as any)[op](), leaf64([5], 2, -2, -0.1)));
  });
}

const pairs: [number[], number[]][] = [[[3, 4], [3, 4]], [[3, 1], [1, 4]], [[2, 3, 4], [4]], [[], [3, 2]], [[4, 1, 3], [1, 5, 1]]];
for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const) {
  test(`gradcheck ${op} with broadcasting`, async () => {
    for (const [i, [sa, sb]] of pairs.entries()) {
      const pos = op === 'pow' || op === 'div';
      const a = leaf64(sa, 10 + i, pos ? 0.5 : -2, 2), b = leaf64(sb, 20 + i, pos ? 0.5 : -2, 2);
      assert.ok(await check((x, y) => x[op](y), a, b), `${op} ${sa} ${sb}`);
    }
  });
}

test('gradcheck ops with a scalar operand, and pow with a constant exponent', async () => {
  const x = leaf64([4], 3, 0.5, 2);
  assert.ok(await check((a) => a.mul(3).add(1).sub(2).div(4), x));
  assert.ok(await check((a) => g.sub(1, a), x));
  assert.ok(await check((a) => g.div(2, a), x));
  assert.ok(await check((a) => a.pow(3), x));
  assert.ok(await check((a) => a.pow(0.5), x));
  assert.ok(await check((a) => g.pow(2, a), x));
});

test('gradcheck where (condition broadcast, both branches)', async () => {
  const cond = g.tensor([[1], [0], [1]], { dtype: 'float64', device: 'cpu' });
  assert.ok(await check((a, b) => g.where(cond, a, b), leaf64([3, 4], 4), leaf64([4], 5)));
  assert.ok(await check((a) => g.where(a.gt(0), a, a.mul(0.1)), leaf64([6], 6)));
});

test('gradcheck sum, mean, max, min over axes, with and without keepDim', async () => {
  const x = leaf64([2, 3, 4], 7);
  for (const op of ['sum', 'mean', 'max', 'min'] as const) {
    for (const axes of [undefined, 0, 1, -1, [0, 2], [1, 2], [0, 1, 2]] as (number | number[] | undefined)[]) {
      for (const keep of [false, true]) {
        assert.ok(await check((a) => a[op](axes, keep), x), `${op} ${JSON.stringify(axes)} ${keep}`);
      }
    }
  }
});

test('max and min split the gradient evenly between tied elements', async () => {
  const x = g.tensor([[1, 3, 3], [2, 0, 2]], { dtype: 'float64', device: 'cpu', requiresGrad: true });
  x.max(1).sum().backward();
  assert.equal(Array.from(await x.grad!.data()), [0, 0.5, 0.5, 0.5, 0, 0.5]);
});

test('gradcheck matmul: 2-D, batched, broadcast batch, vectors, transposed operands', async () => {
  const cases: [number[], number[]][] = [[[3, 4], [4, 5]], [[2, 3, 4], [4, 5]], [[3, 4], [2, 4, 5]],
    [[2, 1, 3, 4], [5, 4, 2]], [[4], [4, 3]], [[3, 4], [4]], [[4], [4]]];
  for (const [i, [sa, sb]] of cases.entries()) {
    assert.ok(await check((a, b) => a.matmul(b), leaf64(sa, 30 + i), leaf64(sb, 40 + i)), `${sa} @ ${sb}`);
  }
  assert.ok(await check((a, b) => a.T.matmul(b.T), leaf64([4, 3], 50), leaf64([5, 4], 51)));
  assert.ok(await check((a, b) => a.transpose(1, 2).matmul(b), leaf64([2, 5, 3], 52), leaf64([5, 4], 53)), 'batched, transposed a');
  // the rule gives a transposed operand its gradient laid out like itself (so the tensor it was transposed from gets
  // a contiguous one, and later accumulations read it in order); a row-major operand gets a row-major one
  const rule = getRule('matmul')!;
  const a = leaf64([2, 5, 3], 54).transpose(1, 2), b = leaf64([4, 5], 55).T, out = a.matmul(b);
  const [da, db] = rule(g.onesLike(out), { inputs: [a, b], output: out, saved: {}, needsGrad: [true, true] });
  assert.equal([da!.shape, da!.strides, db!.shape, db!.strides], [[2, 3, 5], [15, 1, 3], [5, 4], [1, 5]]);
  const [dr] = rule(g.onesLike(out), { inputs: [a.contiguous(), b], output: out, saved: {}, needsGrad: [true, false] });
  assert.equal([dr!.strides], [[15, 5, 1]]);
  assert.ok(await check((x, y) => x.transpose(1, 2).matmul(y.T), leaf64([2, 5, 3], 56), leaf64([4, 5], 57)), 'batched, both transposed');
});

test('gradcheck views: reshape, permute, transpose, expand, slice, squeeze, unsqueeze, flatten, contiguous, clone', async () => {
  const x = leaf64([2, 3, 4], 8);
  const fns: ((a: Tensor) => Tensor)[] = [
    (a) => a.reshape(4, 6).mul(a.reshape(4, 6)),
    (a) => a.permute(2, 0, 1).contiguous().reshape(-1).sin(),
    (a) => a.transpose(0, 2).reshape(24).mul(g.arange(24, undefined, 1, { dtype: 'float64', device: 'cpu' })),
    (a) => a.slice(1, 1).exp(),
    (a) => a.slice(2, -3, -1).square(),
    (a) => a.narrow(0, 1, 1).squeeze(0).unsqueeze(1).tanh(),
    (a) => a.flatten(1).sigmoid(),
    (a) => a.clone().mul(a),
    (a) => a.slice(1, 0, 1).expand(2, 5, 4).mul(g.arange(40, undefined, 1, { dtype: 'float64', device: 'cpu' }).reshape(2, 5, 4)),
  ];
  for (const [i, f] of fns.entries()) assert.ok(await check(f, x), `view case ${i}`);
  assert.ok(await check((a) => a.expand(3, 2).mul(g.tensor([[1, 2], [3, 4], [5, 6]], { dtype: 'float64', device: 'cpu' })), leaf64([2], 9)));
  assert.ok(await check((a) => a.expand(2, 3, 4).square(), leaf64([3, 1], 10)));
});

test('gradcheck concat and stack', async () => {
  assert.ok(await check((a, b) => g.concat([a, b, a], 1).square(), leaf64([2, 3], 11), leaf64([2, 1], 12)));
  assert.ok(await check((a, b) => g.stack([a, b], 0).exp(), leaf64([3], 13), leaf64([3], 14)));
  // stack's own rule: an inner new axis, an input used twice, a non-contiguous input
  assert.ok(await check((a, b) => g.stack([a, b, a], 1).square(), leaf64([2, 3], 13), leaf64([2, 3], 14)));
  assert.ok(await check((a, b) => g.stack([a.transpose(0, 1), b], -1).exp(), leaf64([3, 2], 13), leaf64([2, 3], 14)));
});

test('gradcheck cast (float64 → float32 → float64)', async () => {
  assert.ok(await g.gradcheck((a) => a.cast('float32').cast('float64').square(), [leaf64([4], 15)], { eps: 1e-2, atol: 1e-4, rtol: 1e-3 }));
});

test('gradcheck the composites: softmax, logSoftmax, linear, mseLoss', async () => {
  assert.ok(await check((a) => a.softmax(-1), leaf64([2, 5], 16)));
  assert.ok(await check((a) => a.logSoftmax(0), leaf64([4, 3], 17)));
  assert.ok(await check((x, w, b) => g.F.linear(x, w, b), leaf64([3, 4], 18), leaf64([2, 4], 19), leaf64([2], 20)));
  const target = g.tensor([[0.5], [-1], [2]], { dtype: 'float64', device: 'cpu' });
  assert.ok(await check((p) => g.F.mseLoss(p, target), leaf64([3, 1], 21)));
});

test('gradcheck catches a wrong rule', async () => {
  // a deliberately wrong derivative for a private op name: gradcheck must reject it
  g.defineRule('test_wrongSquare', (grad, { inputs: [x] }) => [grad.mul(x)]); // should be 2x
  const { autogradEngine } = await import('../src/tensor/autograd-seam.js');
  const f = (a: Tensor) => {
    const y = g.noGrad(() => a.square());
    autogradEngine()!.record('test_wrongSquare', [a], y); // as an op would
    return y;
  };
  let threw = false;
  try { await check(f, leaf64([3], 22)); } catch (e) { threw = e instanceof g.GpugradError && /finite differences/.test((e as Error).message); }
  assert.ok(threw, 'gradcheck must throw on a wrong rule');
  assert.is(await g.gradcheck(f, [leaf64([3], 22)], { raiseException: false }), false);
});

test.run();
