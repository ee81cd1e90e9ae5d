/**
 * Special values on WebGPU against the CPU reference (IEEE 754): every unary and binary op and the cast to int32 (both
 * elementwise variants), the reductions, softmax/logSoftmax and the fused cross-entropy (forward, backward) and
 * countCorrect, on every value (and, for two-operand ops, every pair) of {0, −0, ±1, ±∞, NaN, ±a subnormal, ±the
 * largest finite float32}.
 *
 * What "the devices agree" means here (the README's "Special values" says the same to users):
 * - NaN where the CPU gives NaN, and nowhere else; ±∞ exactly; a zero with the CPU's sign (see the exceptions).
 * - Finite values within the op's tolerance: |gpu − cpu| ≤ atol + rtol·|cpu| (WGSL's exp/log are a few ULP; its
 *   sin/cos only an absolute 2⁻¹¹ on [−π, π]).
 * - Subnormals: WGSL lets a device flush them to zero, and SwiftShader does, on input and on output. A result is
 *   accepted when it equals the CPU's on the given inputs or on the inputs with every subnormal flushed to a zero of
 *   its sign, and a subnormal CPU result also matches a zero. Where a kernel reads the bits (log, sqrt, where's
 *   condition) the result is the exact one even on a flushing device.
 * - Exceptions, each justified: sin/cos of the largest finite value (WGSL promises nothing outside [−π, π], and an f32
 *   range reduction cannot recover sin(3.4e38)): any value in [−1, 1]. maximum/minimum of +0 and −0: either zero
 *   (IEEE 754-2008's maxNum and WGSL's max leave that sign unspecified).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ElementwiseVariant, forceElementwiseVariant } from '../src/kernels/wgsl/common.js';
import { g, webgpuAvailable } from './helpers.js';
import type { Tensor } from '../src/index.js';

const MAX = 3.4028234663852886e38, SUB = 1e-40;
const VALUES = [0, -0, 1, -1, Infinity, -Infinity, NaN, SUB, -SUB, MAX, -MAX];
const A = VALUES.flatMap((a) => VALUES.map(() => a));
const B = VALUES.flatMap(() => VALUES);
const MIN_NORMAL = 2 ** -126;

const flush = (v: number) => (v !== 0 && Math.abs(v) < MIN_NORMAL ? (v < 0 ? -0 : 0) : v);
const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

interface Tol { atol?: number; rtol?: number; signedZero?: boolean; anyIn?: [number, number] }
type Input = { data: readonly number[]; shape: number[]; dtype?: g.DType };

async function run(device: g.DeviceName, inputs: Input[], fn: (...xs: Tensor[]) => Tensor[]): Promise<Float32Array[]> {
  const xs = inputs.map((i) => g.tensor(Float32Array.from(i.data), { shape: i.shape, dtype: i.dtype ?? 'float32', device }));
  const out = g.tidy(() => fn(...xs));
  const data = await Promise.all(out.map(async (t) => Float32Array.from(await t.data())));
  for (const t of [...xs, ...out]) t.dispose();
  return data;
}

function matches(got: number, ref: number, tol: Tol): boolean {
  if (Number.isNaN(ref) || Number.isNaN(got)) return Number.isNaN(ref) && Number.isNaN(got);
  if (!Number.isFinite(ref) || !Number.isFinite(got)) return got === ref;
  if (ref !== 0 && Math.abs(ref) < MIN_NORMAL && Math.abs(got) <= Math.abs(ref)) return true; // a flushed result
  if (ref === 0 && got === 0) return tol.signedZero === false || Object.is(ref, got);
  return Math.abs(got - ref) <= (tol.atol ?? 1e-6) + (tol.rtol ?? 1e-5) * Math.abs(ref);
}

/**
 * Runs `fn` on the CPU (on the inputs, and on the inputs with subnormals flushed) and on WebGPU, and checks every output
 * element by the rules above. `label(i, k)` names the inputs of element i of output k in a failure; `tol(i)` may vary by
 * element.
 */
async function agree(what: string, inputs: Input[], fn: (...xs: Tensor[]) => Tensor[],
  label: (i: number, k: number) => string, tol: (i: number) => Tol = () => ({})): Promise<void> {
  if (!webgpuAvailable()) return;
  const exact = await run('cpu', inputs, fn);
  const flushed = await run('cpu', inputs.map((i) => (i.dtype === 'int32' ? i : { ...i, data: i.data.map(flush) })), fn);
  const gpu = await run('webgpu', inputs, fn);
  const bad: string[] = [];
  gpu.forEach((out, k) => out.forEach((v, i) => {
    const t = tol(i);
    const ok = t.anyIn ? v >= t.anyIn[0] && v <= t.anyIn[1] : matches(v, exact[k][i], t) || matches(v, flushed[k][i], t);
    if (!ok) bad.push(`${label(i, k)}: webgpu ${show(v)}, cpu ${show(exact[k][i])}${Object.is(exact[k][i], flushed[k][i]) ? '' : ` (flushed: ${show(flushed[k][i])})`}`);
  }));
  assert.ok(bad.length === 0, `${what}: ${bad.length} disagreements\n  ${bad.slice(0, 20).join('\n  ')}`);
}

/** Pads to a multiple of 4 with 0.5, so the vec4 variant is eligible (the padding is checked too, harmlessly). */
const pad = (xs: readonly number[]) => [...xs, ...Array((4 - (xs.length % 4)) % 4).fill(0.5)];

const unaryOps = ['neg', 'abs', 'sign', 'exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'step', 'reciprocal',
  'square', 'floor'] as const;
const binaryOps = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
const trig = new Set<string>(['sin', 'cos']);

function unaryTol(op: string, x: number): Tol {
  if (trig.has(op)) return Math.abs(x) > Math.PI && Number.isFinite(x) ? { anyIn: [-1, 1] } : { atol: 5e-4 };
  return {};
}

test('the CPU reference itself: IEEE 754 (C99 Annex F) where WGSL leaves the result open', async () => {
  // both devices are checked against the CPU, so the CPU's answers are pinned here by hand
  const cpu = async (fn: () => Tensor) => Array.from(await g.tidy(fn).data());
  const x = (...v: number[]) => g.tensor(v, { device: 'cpu' });
  const same = (got: number[], want: number[], what: string) =>
    assert.ok(got.every((v, i) => Object.is(v, want[i])), `${what}: got ${got.map(show)}, want ${want.map(show)}`);
  same(await cpu(() => x(0, -0, -1, -Infinity, NaN, Infinity).log()), [-Infinity, -Infinity, NaN, NaN, NaN, Infinity], 'log');
  same(await cpu(() => x(NaN, -Infinity, Infinity).exp()), [NaN, 0, Infinity], 'exp');
  same(await cpu(() => x(-0, -1, -SUB).sqrt()), [-0, NaN, NaN], 'sqrt');
  same(await cpu(() => x(-0, Infinity).sin()), [-0, NaN], 'sin');
  // pow as C's powf: pow(1, y) = pow(x, ±0) = 1 even for NaN; pow(−1, ±∞) = 1; signed zeros and infinities
  same(await cpu(() => x(1, 1, NaN, -1, -1, -0, -0, -Infinity, -Infinity, -2, 0.5).pow(x(NaN, Infinity, 0, Infinity, -Infinity, -1, 0.5, 3, 0.5, 0.5, -Infinity))),
    [1, 1, 1, 1, 1, -Infinity, 0, -Infinity, Infinity, NaN, Infinity], 'pow');
  same(await cpu(() => g.step(x(NaN, 0, SUB))), [NaN, 0, 1], 'step');
  same(await cpu(() => x(NaN, Infinity, -Infinity, 3e9, -3e9, -2.5).cast('int32').cast('float32')),
    [0, 2147483648, -2147483648, 2147483648, -2147483648, -2], 'cast to int32 saturates');
});

for (const variant of ['scalar', 'vec4'] as ElementwiseVariant[]) {
  const inVariant = (fn: () => Promise<void>) => async () => {
    forceElementwiseVariant(variant);
    try { await fn(); } finally { forceElementwiseVariant(null); }
  };
  test(`every unary op on every special value [${variant}]`, inVariant(async () => {
    const x = pad(VALUES);
    for (const op of unaryOps) {
      await agree(op, [{ data: x, shape: [x.length] }], (t) => [g[op](t)], (i) => `${op}(${show(x[i])})`,
        (i) => unaryTol(op, x[i]));
    }
    // the conversion to int32 (toward zero, saturating, NaN → 0), and back
    await agree('cast', [{ data: [...x, 3e9, -3e9, 2.5, -2.5], shape: [x.length + 4] }], (t) => [t.cast('int32').cast('float32')],
      (i) => `cast(${show([...x, 3e9, -3e9, 2.5, -2.5][i])})`);
  }));
  test(`every binary op on every pair of special values [${variant}]`, inVariant(async () => {
    const a = pad(A), b = pad(B);
    for (const op of binaryOps) {
      const zeros = (i: number) => (op === 'maximum' || op === 'minimum') && flush(a[i]) === 0 && flush(b[i]) === 0;
      await agree(op, [{ data: a, shape: [a.length] }, { data: b, shape: [b.length] }], (x, y) => [x[op](y)],
        (i) => `${op}(${show(a[i])}, ${show(b[i])})`, (i) => ({ signedZero: !zeros(i) }));
    }
  }));
  test(`a special value broadcast as a scalar operand [${variant}]`, inVariant(async () => {
    const x = pad(VALUES);
    const ops = ['add', 'mul', 'div', 'pow', 'maximum'] as const;
    // (a subnormal scalar is left out: the flushed reference could not flush a number the function closes over)
    for (const v of [NaN, Infinity, -Infinity, -0, MAX]) {
      await agree(`x op ${show(v)}`, [{ data: x, shape: [x.length] }], (t) => ops.map((op) => t[op](v)),
        (i, k) => `${ops[k]}(${show(x[i])}, ${show(v)})`, (i) => ({ signedZero: !(flush(x[i]) === 0 && v === 0) }));
    }
  }));
}

test('reductions over every pair of special values (one invocation per output, and one workgroup per output)', async () => {
  const pairs = A.flatMap((a, i) => [a, B[i]]);
  const label = (i: number) => `(${show(A[i])}, ${show(B[i])})`;
  const zerosMaxMin = (i: number) => ({ signedZero: !(flush(A[i]) === 0 && flush(B[i]) === 0) });
  await agree('pairs', [{ data: pairs, shape: [A.length, 2] }],
    (x) => [x.sum(1), x.mean(1), x.max(1), x.min(1), x.argmax(1).cast('float32'), x.argmin(1).cast('float32')], label, zerosMaxMin);
  // Long rows take the workgroup variant: the pair, then zeros (sum) or copies of its first value (max, min, arg*).
  // (Not the pair repeated: a sum whose partial sums overflow, MAX + MAX + … − MAX − …, depends on the order of the
  // additions, which differs between the devices by design; that is rounding, not a special value.)
  const row = (i: number, fill: number) => [A[i], B[i], ...Array<number>(198).fill(fill)];
  await agree('long rows, sum', [{ data: A.flatMap((_, i) => row(i, 0)), shape: [A.length, 200] }], (x) => [x.sum(1), x.mean(1)],
    label);
  await agree('long rows', [{ data: A.flatMap((a, i) => row(i, a)), shape: [A.length, 200] }],
    (x) => [x.max(1), x.min(1), x.argmax(1).cast('float32'), x.argmin(1).cast('float32')], label, zerosMaxMin);
  await agree('whole tensor', [{ data: VALUES, shape: [VALUES.length] }], (x) => [x.sum(), x.max(), x.min(), x.argmax().cast('float32')],
    () => 'all values');
});

test('softmax and logSoftmax over every pair of special values', async () => {
  const pairs = A.flatMap((a, i) => [a, B[i]]);
  await agree('softmax', [{ data: pairs, shape: [A.length, 2] }], (x) => [x.softmax(1), x.logSoftmax(1)],
    (i) => `row (${show(A[i >> 1])}, ${show(B[i >> 1])}) element ${i & 1}`, () => ({ atol: 1e-6, rtol: 1e-5 }));
});

test('fused cross-entropy (per row, both labels), its gradient and countCorrect on every pair of special values', async () => {
  const pairs = A.flatMap((a, i) => [a, B[i]]);
  for (const label of [0, 1]) {
    const labels = A.map(() => label);
    const rowLabel = (i: number) => `row (${show(A[i])}, ${show(B[i])}) label ${label}`;
    // the loss is a mean over the batch, where one NaN row hides the others: one loss per row
    await agree(`crossEntropy label ${label}`, [{ data: pairs, shape: [A.length, 2] }, { data: labels, shape: [A.length], dtype: 'int32' }],
      (x, y) => A.map((_, r) => g.F.crossEntropy(x.slice(0, r, r + 1), y.slice(0, r, r + 1))), (_, r) => rowLabel(r));
    // the gradient's rows are independent: one backward over the whole batch
    await agree(`crossEntropy gradient label ${label}`,
      [{ data: pairs, shape: [A.length, 2] }, { data: labels, shape: [A.length], dtype: 'int32' }],
      (x, y) => { const l = x.detach().requiresGrad_(); return g.grad(g.F.crossEntropy(l, y), [l]); },
      (i) => `${rowLabel(i >> 1)} element ${i & 1}`);
    await agree(`countCorrect label ${label}`,
      [{ data: pairs, shape: [A.length, 2] }, { data: labels, shape: [A.length], dtype: 'int32' }],
      (x, y) => A.map((_, r) => g.countCorrect(x.slice(0, r, r + 1), y.slice(0, r, r + 1)).cast('float32')), (_, r) => rowLabel(r));
  }
});

test.run();
