/**
 * The CPU backend's fast paths (src/kernels/cpu/fast.ts) against its reference loops (`fastPaths.enabled = false`):
 * every unary and binary op of the op tables, where, copy, copyInto, reduce and matmul, on random views — odd sizes,
 * size-0 and size-1 dimensions, broadcast (stride 0), transposed and sliced strides, offsets — in float32, int32 and
 * float64, with NaN, ±Infinity and -0 among the inputs. The two paths must agree bit for bit (Object.is per element).
 * matmul and reduce are also checked against naive loops written here, so a mistake shared by both paths still fails.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BinaryOp, DType, ReduceOp, Storage, TypedArray, UnaryOp, View } from '../src/kernels/backend.js';
import { CpuBackend, CpuStorage, makeArray } from '../src/kernels/cpu/backend.js';
import { binaryFns, unaryFns } from '../src/kernels/cpu/elementwise.js';
import { fastPaths } from '../src/kernels/cpu/fast.js';
import { broadcastStrides, contiguousStrides, sizeOf } from '../src/core/shape.js';

const cpu = new CpuBackend();
const DTYPES: DType[] = ['float32', 'int32', 'float64'];
const CASES = 40; // random cases per op and dtype

/** mulberry32: a small seeded generator, so that a failure names a reproducible seed */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)];
  return { next, int, pick };
}
type Rng = ReturnType<typeof rng>;

/** Values with the awkward ones mixed in (floats: NaN, ±Infinity, -0, 0; ints: 0 and negatives). */
function values(r: Rng, dtype: DType, n: number): TypedArray {
  const out = makeArray(dtype, n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'int32') { out[i] = r.int(41) - 20; continue; }
    const u = r.next();
    out[i] = u < 0.04 ? NaN : u < 0.07 ? Infinity : u < 0.1 ? -Infinity : u < 0.14 ? -0 : u < 0.2 ? 0 : (r.next() - 0.5) * 8;
  }
  return out;
}

function randomShape(r: Rng, maxRank = 4): number[] {
  const rank = r.int(maxRank + 1);
  const shape = Array.from({ length: rank }, () => r.pick([1, 1, 2, 3, 5, 7, 13]));
  if (rank > 0 && r.next() < 0.08) shape[r.int(rank)] = 0; // empty tensors
  return shape;
}

/**
 * A random view of `shape`: contiguous, transposed (a permuted contiguous layout), or sliced out of a larger
 * storage with steps, each at a random offset; `broadcast` sets some strides to 0.
 */
function randomView(r: Rng, dtype: DType, shape: readonly number[], broadcast = true): View {
  const rank = shape.length;
  let strides: number[];
  const layout = r.int(3);
  if (layout === 0) {
    strides = contiguousStrides(shape);
  } else if (layout === 1) {
    const perm = [...Array(rank).keys()].sort(() => r.next() - 0.5);
    const permuted = contiguousStrides(perm.map((d) => shape[d]));
    strides = new Array(rank);
    perm.forEach((d, i) => { strides[d] = permuted[i]; });
  } else {
    const big = shape.map((d) => d * (1 + r.int(2)) + r.int(3));
    const steps = shape.map(() => 1 + r.int(2));
    strides = contiguousStrides(big).map((s, i) => s * steps[i]);
  }
  if (broadcast) strides = strides.map((s) => (r.next() < 0.15 ? 0 : s));
  const offset = r.int(4);
  const span = shape.some((d) => d === 0) ? 0 : shape.reduce((acc, d, i) => acc + (d - 1) * strides[i], 0) + 1;
  return { storage: new CpuStorage(cpu, values(r, dtype, offset + span), dtype), shape: [...shape], strides, offset };
}

/** Runs `f` on the reference loops and on the fast paths; asserts that both give the same elements, bit for bit. */
function bothPaths(what: string, f: () => Storage | TypedArray): TypedArray {
  const run = (on: boolean) => {
    fastPaths.enabled = on;
    try { const s = f(); return s instanceof CpuStorage ? s.data : s as TypedArray; } finally { fastPaths.enabled = true; }
  };
  const ref = run(false), fast = run(true);
  assertSame(fast, ref, what);
  return fast;
}

function assertSame(got: TypedArray, want: TypedArray, what: string): void {
  assert.is(got.constructor, want.constructor, `${what}: dtype`);
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.unreachable(`${what}: element ${i}: fast path ${got[i]}, reference ${want[i]}`);
  }
}

const describe = (v: View) => `${v.storage.dtype} [${v.shape}] strides [${v.strides}] offset ${v.offset}`;

// ---- elementwise ------------------------------------------------------------------------------------------------

for (const op of Object.keys(unaryFns) as UnaryOp[]) {
  test(`unary ${op}: fast path = reference on random views`, () => {
    for (const dtype of DTYPES) {
      for (let c = 0; c < CASES; c++) {
        const r = rng(1000 * c + op.length);
        const x = randomView(r, dtype, randomShape(r));
        bothPaths(`${op} ${describe(x)}`, () => cpu.unary(op, x));
      }
    }
  });
}

/** Two operands broadcast to a common shape, as the tensor floor passes them (stride 0 on broadcast dims). */
function broadcastPair(r: Rng, dtype: DType): { a: View; b: View; out: number[] } {
  const out = randomShape(r);
  const sub = (): number[] => out.slice(r.int(out.length + 1)).map((d) => (r.next() < 0.3 ? 1 : d));
  const as = sub(), bs = sub();
  const bcast = (s: number[]): View => {
    const v = randomView(r, dtype, s, false);
    return { ...v, shape: out, strides: broadcastStrides(s, v.strides, out) };
  };
  return { a: bcast(as), b: bcast(bs), out };
}

for (const op of Object.keys(binaryFns) as BinaryOp[]) {
  test(`binary ${op}: fast path = reference on broadcast and strided views`, () => {
    for (const dtype of DTYPES) {
      for (let c = 0; c < CASES; c++) {
        const r = rng(2000 * c + op.length * 7 + op.charCodeAt(0));
        const { a, b, out } = broadcastPair(r, dtype);
        bothPaths(`${op} ${describe(a)} with ${describe(b)}`, () => cpu.binary(op, a, b, out));
      }
    }
  });
}

test('binary: int32 division truncates toward zero on both paths (and x/0 gives 0)', () => {
  const a = new CpuStorage(cpu, Int32Array.from([7, -7, 7, -7, 5, 0]), 'int32');
  const b = new CpuStorage(cpu, Int32Array.from([2, 2, -2, -2, 0, 3]), 'int32');
  const v = (s: Storage): View => ({ storage: s, shape: [6], strides: [1], offset: 0 });
  const got = bothPaths('int32 div', () => cpu.binary('div', v(a), v(b), [6]));
  assert.equal([...got], [3, -3, -3, 3, 0, 0]);
});

test('binary: maximum/minimum propagate NaN and order -0 as the reference does', () => {
  const a = new CpuStorage(cpu, Float64Array.from([NaN, 1, -0, 0, 2]), 'float64');
  const b = new CpuStorage(cpu, Float64Array.from([1, NaN, 0, -0, -Infinity]), 'float64');
  const v = (s: Storage): View => ({ storage: s, shape: [5], strides: [1], offset: 0 });
  const max = bothPaths('maximum', () => cpu.binary('maximum', v(a), v(b), [5]));
  const min = bothPaths('minimum', () => cpu.binary('minimum', v(a), v(b), [5]));
  assert.ok(Number.isNaN(max[0]) && Number.isNaN(max[1]) && Number.isNaN(min[0]) && Number.isNaN(min[1]));
});

test('where: fast path = reference (cond of any dtype, broadcast)', () => {
  for (const dtype of DTYPES) {
    for (let c = 0; c < CASES; c++) {
      const r = rng(3000 + c);
      const { a, b, out } = broadcastPair(r, dtype);
      const condShape = out.slice(r.int(out.length + 1));
      const cv = randomView(r, r.pick(DTYPES), condShape, false);
      const cond: View = { ...cv, shape: out, strides: broadcastStrides(condShape, cv.strides, out) };
      bothPaths(`where ${describe(cond)} ${describe(a)} ${describe(b)}`, () => cpu.where(cond, a, b, out));
    }
  }
});

test('copy: fast path = reference, with every dtype conversion (float → int32 truncates)', () => {
  for (const from of DTYPES) {
    for (const to of DTYPES) {
      for (let c = 0; c < CASES; c++) {
        const r = rng(4000 + c);
        const x = randomView(r, from, randomShape(r));
        bothPaths(`copy ${describe(x)} → ${to}`, () => cpu.copy(x, to));
      }
    }
  }
  const x = new CpuStorage(cpu, Float32Array.from([2.7, -2.7, 0.5, -0.5]), 'float32');
  assert.equal([...bothPaths('trunc', () => cpu.copy({ storage: x, shape: [4], strides: [1], offset: 0 }, 'int32'))], [2, -2, 0, 0]);
});

test('copyInto: fast path = reference, into transposed and sliced destinations', () => {
  for (const dtype of DTYPES) {
    for (let c = 0; c < CASES; c++) {
      const r = rng(5000 + c);
      const shape = randomShape(r);
      const src = randomView(r, dtype, shape);
      const dst0 = randomView(r, dtype, shape, false); // no stride 0: every destination element written once
      const init = (dst0.storage as CpuStorage).data.slice();
      bothPaths(`copyInto ${describe(src)} → ${describe(dst0)}`, () => {
        const dst = { ...dst0, storage: new CpuStorage(cpu, init.slice(), dtype) };
        cpu.copyInto(src, dst);
        return dst.storage;
      });
    }
  }
});

// ---- reduce -----------------------------------------------------------------------------------------------------

/** The reduction written the plainest way, for a check that does not depend on backend.ts. */
function naiveReduce(op: ReduceOp, src: TypedArray, outer: number, reduce: number, inner: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const xs = Array.from({ length: reduce }, (_, r) => src[(o * reduce + r) * inner + j]);
      if (op === 'sum') { out.push(xs.reduce((s, v) => s + v, 0)); continue; }
      const nan = xs.findIndex((v) => Number.isNaN(v));
      const ext = op === 'max' || op === 'argmax' ? Math.max(-Infinity, ...xs) : Math.min(Infinity, ...xs);
      const at = nan >= 0 ? nan : Math.max(0, xs.indexOf(ext));
      // the value at the first extreme (max of -0 and 0 is whichever came first, as in the reference)
      out.push(op === 'argmax' || op === 'argmin' ? at : nan >= 0 ? NaN : reduce === 0 ? ext : xs[at]);
    }
  }
  return out;
}

test('reduce: every op, fast path = reference = a naive loop (NaN wins, first extreme wins)', () => {
  for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as ReduceOp[]) {
    for (const dtype of DTYPES) {
      for (let c = 0; c < CASES; c++) {
        const r = rng(6000 + c);
        const [outer, reduce, inner] = [r.pick([0, 1, 2, 5]), r.pick([0, 1, 3, 7, 16]), r.pick([0, 1, 1, 4, 9])];
        const data = values(r, dtype, outer * reduce * inner);
        if (dtype !== 'int32' && r.next() < 0.5) data.forEach((v, i) => { if (!Number.isFinite(v)) data[i] = i; }); // also NaN-free
        const s = new CpuStorage(cpu, data, dtype);
        const what = `${op} ${dtype} [${outer}, ${reduce}, ${inner}]`;
        const got = bothPaths(what, () => cpu.reduce(op, s, outer, reduce, inner));
        const want = naiveReduce(op, data, outer, reduce, inner);
        assertSame(got, Reflect.construct(got.constructor, [want]) as TypedArray, `${what} vs the naive loop`);
      }
    }
  }
});

// ---- matmul -----------------------------------------------------------------------------------------------------

/** A [batch, rows, cols] operand: contiguous or transposed (the last two axes), a broadcast batch, an offset. */
function matView(r: Rng, dtype: DType, batch: number, rows: number, cols: number, big = false): View {
  const transposed = r.next() < 0.5;
  const rowStride = transposed ? 1 : cols, colStride = transposed ? rows : 1;
  const broadcastBatch = batch > 1 && r.next() < 0.3;
  const batchStride = broadcastBatch ? 0 : rows * cols + r.int(3);
  const offset = r.int(3);
  const n = offset + (batch - 1) * batchStride + rows * cols + 1;
  const data = big ? values(r, dtype, n).map((v) => (Number.isFinite(v) ? v : 1)) : values(r, dtype, n);
  return { storage: new CpuStorage(cpu, data, dtype), shape: [batch, rows, cols], strides: [batchStride, rowStride, colStride], offset };
}

function naiveMatmul(a: View, b: View, batch: number, m: number, k: number, n: number, bias: TypedArray | null,
  biasStride: number, relu: boolean): number[] {
  const da = (a.storage as CpuStorage).data, db = (b.storage as CpuStorage).data;
  const out: number[] = [];
  for (let p = 0; p < batch; p++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let q = 0; q < k; q++) {
          acc += da[a.offset + p * a.strides[0] + i * a.strides[1] + q * a.strides[2]] *
            db[b.offset + p * b.strides[0] + q * b.strides[1] + j * b.strides[2]];
        }
        if (bias) acc += bias[p * biasStride + j];
        out.push(relu ? (acc > 0 ? acc : Number.isNaN(acc) ? NaN : 0) : acc);
      }
    }
  }
  return out;
}

test('matmul: fast path = reference = a naive loop (transposed operands, broadcast batch, bias, ReLU)', () => {
  for (const dtype of DTYPES) {
    for (let c = 0; c < 3 * CASES; c++) {
      const r = rng(7000 + c);
      const [batch, m, k, n] = [r.pick([1, 1, 2, 3]), r.pick([0, 1, 2, 3, 5, 9]), r.pick([0, 1, 2, 7, 13]), r.pick([0, 1, 3, 4, 5, 11])];
      const a = matView(r, dtype, batch, m, k), b = matView(r, dtype, batch, k, n);
      const withBias = r.next() < 0.5, relu = r.next() < 0.5, perBatch = withBias && r.next() < 0.5;
      const biasData = withBias ? values(r, dtype, perBatch ? batch * n : n) : null;
      const epi = { bias: biasData && new CpuStorage(cpu, biasData, dtype), biasBatchStride: perBatch ? n : 0, relu };
      const what = `matmul ${dtype} b${batch} m${m} k${k} n${n} a ${describe(a)} b ${describe(b)} bias ${withBias} relu ${relu}`;
      const got = bothPaths(what, () => cpu.matmul(a, b, batch, m, k, n, epi));
      const want = naiveMatmul(a, b, batch, m, k, n, biasData, perBatch ? n : 0, relu);
      assertSame(got, Reflect.construct(got.constructor, [want]) as TypedArray, `${what} vs the naive loop`);
    }
  }
});

test('matmul: large strided operands (the packed path) match the reference', () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    for (let c = 0; c < 3; c++) {
      const r = rng(8000 + c);
      const [batch, m, k, n] = [r.pick([1, 2]), 64 + r.int(9), 256 + r.int(7), 64 + r.int(9)];
      const a = matView(r, dtype, batch, m, k, true), b = matView(r, dtype, batch, k, n, true);
      bothPaths(`matmul ${dtype} b${batch} m${m} k${k} n${n} a ${describe(a)} b ${describe(b)}`, () => cpu.matmul(a, b, batch, m, k, n));
    }
  }
});

test('the tests can fail: a wrong answer is caught', () => {
  const x: View = { storage: new CpuStorage(cpu, Float64Array.from([1, 2, 3]), 'float64'), shape: [3], strides: [1], offset: 0 };
  let wrong = false;
  try {
    bothPaths('deliberately different', () => (fastPaths.enabled ? cpu.unary('neg', x) : cpu.unary('identity', x)));
  } catch { wrong = true; }
  assert.ok(wrong, 'bothPaths must reject differing outputs');
  assert.ok(fastPaths.enabled, 'bothPaths leaves the fast paths on');
  assert.is(sizeOf([2, 0, 3]), 0);
});

test.run();
