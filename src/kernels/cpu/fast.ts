/**
 * Fast paths of the CPU backend. The reference loops in ./backend.ts walk an odometer and call a closure per element;
 * these do the same arithmetic, in the same order, with the closure gone:
 *
 * - Elementwise ops (unary, binary, where, copy) first collapse the shape over every view's strides (`collapseDims`):
 *   a contiguous tensor becomes one long row, a bias broadcast over a batch becomes [rows, cols] with stride 0 on the
 *   rows. Only the outer dimensions walk an odometer; each row runs a tight loop that was chosen once per call, one
 *   loop written out per op (`unaryRows`, `binaryRows`), so there is no call per element.
 * - matmul computes each output as one dot product over k, in 2 × 4 register tiles (see `gemm`). Every
 *   output element therefore sums the same products in the same order as the reference i-j-k loop, so the results are
 *   bit-identical (float32 included: the reference also accumulates in a JS double and rounds once). An operand that
 *   is not contiguous along k (b stored [k, n] row-major) is first packed into a float64 copy that is.
 * - reduce keeps one accumulator per inner position and walks the reduced axis outside the inner loop, again in the
 *   reference's order.
 *
 * `fastPaths.enabled = false` sends every op back to the reference loops (the tests compare the two).
 */
import type { BinaryOp, ReduceOp, TypedArray, UnaryOp, View } from '../backend.js';
import { collapseDims, contiguousStrides, sizeOf } from '../../core/shape.js';
import { pow, toInt32 } from './elementwise.js';

/** Switch for tests and benchmarks: false runs the reference loops of ./backend.ts. */
export const fastPaths = { enabled: true };

// ---- walking the outer dimensions -------------------------------------------------------------------------------

/**
 * The rows of `shape` as seen by several views: after collapsing, the last dimension is the row (length `n`, stride
 * `inner[j]` in view j) and the others are walked by `eachRow`.
 */
interface Rows {
  outer: number[];
  outerStrides: number[][];
  n: number;
  inner: number[];
}

function rows(shape: readonly number[], stridesList: readonly (readonly number[])[]): Rows {
  const c = collapseDims(shape, stridesList);
  if (c.shape.length === 0) return { outer: [], outerStrides: stridesList.map(() => []), n: 1, inner: stridesList.map(() => 0) };
  const last = c.shape.length - 1;
  return {
    outer: c.shape.slice(0, last),
    outerStrides: c.strides.map((s) => s.slice(0, last)),
    n: c.shape[last],
    inner: c.strides.map((s) => s[last]),
  };
}

/** Calls `fn()` once per row; `offs[j]` holds view j's offset of the row's first element (updated in place). */
function eachRow(r: Rows, offs: number[], fn: () => void): void {
  const rank = r.outer.length;
  const count = sizeOf(r.outer);
  const coord = new Array<number>(rank).fill(0);
  for (let i = 0; i < count; i++) {
    fn();
    for (let d = rank - 1; d >= 0; d--) {
      coord[d]++;
      for (let j = 0; j < offs.length; j++) offs[j] += r.outerStrides[j][d];
      if (coord[d] < r.outer[d]) break;
      for (let j = 0; j < offs.length; j++) offs[j] -= r.outerStrides[j][d] * r.outer[d];
      coord[d] = 0;
    }
  }
}

// ---- unary ------------------------------------------------------------------------------------------------------

/** out[o + t] = f(x[i + t·s]) for t < n; one loop per op (the scalar definitions are those of ./elementwise.ts). */
type UnaryRow = (out: TypedArray, o: number, x: TypedArray, i: number, s: number, n: number) => void;

export const unaryRows: Record<UnaryOp, UnaryRow> = {
  neg: (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) out[o + t] = -x[i]; },
  abs: (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) out[o + t] = Math.abs(x[i]); },
  sign: (out, o, x, i, s, n) => {
    for (let t = 0; t < n; t++, i += s) { const v = x[i]; out[o + t] = v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : NaN; }
  },
  exp: (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) out[o + t] = Math.exp(x[i]); },
  log: (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) out[o + t] = Math.log(x[i]); },
  sqrt: (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) out[o + t] = Math.sqrt(x[i]); },
  sin: (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) out[o + t] = Math.sin(x[i]); },
  cos: (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) out[o + t] = Math.cos(x[i]); },
  tanh: (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) out[o + t] = Math.tanh(x[i]); },
  sigmoid: (out, o, x, i, s, n) => {
    for (let t = 0; t < n; t++, i += s) {
      const v = x[i];
      out[o + t] = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    }
  },
  relu: (out, o, x, i, s, n) => {
    for (let t = 0; t < n; t++, i += s) { const v = x[i]; out[o + t] = v > 0 ? v : v <= 0 ? 0 : NaN; }
  },
  step: (out, o, x, i, s, n) => {
    for (let t = 0; t < n; t++, i += s) { const v = x[i]; out[o + t] = v > 0 ? 1 : v <= 0 ? 0 : NaN; }
  },
  reciprocal: (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) out[o + t] = 1 / x[i]; },
  square: (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) { const v = x[i]; out[o + t] = v * v; } },
  floor: (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) out[o + t] = Math.floor(x[i]); },
  identity: (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) out[o + t] = x[i]; },
};

/** copy's conversion to int32 (toward zero, saturating, NaN → 0), as the reference does. */
const truncRow: UnaryRow = (out, o, x, i, s, n) => { for (let t = 0; t < n; t++, i += s) out[o + t] = toInt32(x[i]); };

/** Fills the contiguous `out` with `row` applied to every element of the view `x` (over `src`). */
function mapView(row: UnaryRow, out: TypedArray, src: TypedArray, x: View): void {
  if (out.length === 0) return;
  const r = rows(x.shape, [contiguousStrides(x.shape), x.strides]);
  const offs = [0, x.offset];
  const n = r.n, s = r.inner[1];
  eachRow(r, offs, () => row(out, offs[0], src, offs[1], s, n));
}

export function unaryFast(op: UnaryOp, out: TypedArray, src: TypedArray, x: View): void {
  mapView(unaryRows[op], out, src, x);
}

/** Strided gather of `x` into the contiguous `out` (truncating when a float becomes an int32). */
export function copyFast(out: TypedArray, src: TypedArray, x: View, truncate: boolean): void {
  mapView(truncate ? truncRow : unaryRows.identity, out, src, x);
}

/** to[dst] = from[src] element by element, in the reference's (row-major) order. */
export function copyIntoFast(from: TypedArray, src: View, to: TypedArray, dst: View): void {
  if (sizeOf(src.shape) === 0) return;
  const r = rows(src.shape, [src.strides, dst.strides]);
  const offs = [src.offset, dst.offset];
  const n = r.n, ss = r.inner[0], ds = r.inner[1];
  eachRow(r, offs, () => {
    for (let t = 0, i = offs[0], j = offs[1]; t < n; t++, i += ss, j += ds) to[j] = from[i];
  });
}

// ---- binary -----------------------------------------------------------------------------------------------------

/** out[o + t] = f(a[ia + t·sa], b[ib + t·sb]) for t < n. */
type BinaryRow = (out: TypedArray, o: number, a: TypedArray, ia: number, sa: number, b: TypedArray, ib: number, sb: number,
  n: number) => void;

export const binaryRows: Record<BinaryOp, BinaryRow> = {
  add: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = a[ia] + b[ib]; },
  sub: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = a[ia] - b[ib]; },
  mul: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = a[ia] * b[ib]; },
  div: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = a[ia] / b[ib]; },
  pow: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = pow(a[ia], b[ib]); },
  // Math.max/min already give NaN when either side is NaN, as the reference requires.
  maximum: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = Math.max(a[ia], b[ib]); },
  minimum: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = Math.min(a[ia], b[ib]); },
  eq: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = a[ia] === b[ib] ? 1 : 0; },
  ne: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = a[ia] !== b[ib] ? 1 : 0; },
  lt: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = a[ia] < b[ib] ? 1 : 0; },
  le: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = a[ia] <= b[ib] ? 1 : 0; },
  gt: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = a[ia] > b[ib] ? 1 : 0; },
  ge: (out, o, a, ia, sa, b, ib, sb, n) => { for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = a[ia] >= b[ib] ? 1 : 0; },
};

/** int32 division truncates toward zero (as C and WGSL do). */
const intDivRow: BinaryRow = (out, o, a, ia, sa, b, ib, sb, n) => {
  for (let t = 0; t < n; t++, ia += sa, ib += sb) out[o + t] = Math.trunc(a[ia] / b[ib]);
};

/** `a` and `b` are already broadcast to `outShape`; `out` is contiguous. */
export function binaryFast(op: BinaryOp, isInt: boolean, out: TypedArray, da: TypedArray, a: View, db: TypedArray, b: View,
  outShape: readonly number[]): void {
  if (out.length === 0) return;
  const row = isInt && op === 'div' ? intDivRow : binaryRows[op];
  const r = rows(outShape, [contiguousStrides(outShape), a.strides, b.strides]);
  const offs = [0, a.offset, b.offset];
  const n = r.n, sa = r.inner[1], sb = r.inner[2];
  eachRow(r, offs, () => row(out, offs[0], da, offs[1], sa, db, offs[2], sb, n));
}

export function whereFast(out: TypedArray, dc: TypedArray, cond: View, da: TypedArray, a: View, db: TypedArray, b: View,
  outShape: readonly number[]): void {
  if (out.length === 0) return;
  const r = rows(outShape, [contiguousStrides(outShape), cond.strides, a.strides, b.strides]);
  const offs = [0, cond.offset, a.offset, b.offset];
  const n = r.n, sc = r.inner[1], sa = r.inner[2], sb = r.inner[3];
  eachRow(r, offs, () => {
    for (let t = 0, o = offs[0], ic = offs[1], ia = offs[2], ib = offs[3]; t < n; t++, ic += sc, ia += sa, ib += sb) {
      out[o + t] = dc[ic] !== 0 ? da[ia] : db[ib];
    }
  });
}

// ---- reduce -----------------------------------------------------------------------------------------------------

/**
 * The middle axis of a contiguous [outer, reduce, inner] layout. Output (o, j) sees src[o, 0, j], src[o, 1, j], ... in
 * that order, as in the reference; the loop over j is innermost so that memory is read in order.
 */
export function reduceFast(op: ReduceOp, out: TypedArray, src: TypedArray, outer: number, reduce: number, inner: number): void {
  const isArg = op === 'argmax' || op === 'argmin';
  const isMax = op === 'max' || op === 'argmax';
  if (inner === 1) { // the last axis: each output is one contiguous run, reduced in a local variable
    for (let o = 0, base = 0; o < outer; o++, base += reduce) {
      if (op === 'sum') {
        let s = 0;
        for (let r = 0; r < reduce; r++) s += src[base + r];
        out[o] = s;
        continue;
      }
      let best = isMax ? -Infinity : Infinity, at = 0;
      if (isMax) {
        for (let r = 0; r < reduce; r++) {
          const v = src[base + r];
          if (v > best || (v !== v && best === best)) { best = v; at = r; }
        }
      } else {
        for (let r = 0; r < reduce; r++) {
          const v = src[base + r];
          if (v < best || (v !== v && best === best)) { best = v; at = r; }
        }
      }
      out[o] = isArg ? at : best;
    }
    return;
  }
  const acc = new Float64Array(inner);
  const arg = new Int32Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * reduce * inner;
    if (op === 'sum') {
      acc.fill(0);
      for (let r = 0; r < reduce; r++) {
        const row = base + r * inner;
        for (let j = 0; j < inner; j++) acc[j] += src[row + j];
      }
    } else {
      // NaN wins and stays (the first NaN's index for argmax/argmin); otherwise the first extreme wins.
      acc.fill(isMax ? -Infinity : Infinity);
      arg.fill(0);
      for (let r = 0; r < reduce; r++) {
        const row = base + r * inner;
        if (isMax) {
          for (let j = 0; j < inner; j++) {
            const v = src[row + j], c = acc[j];
            if (v > c || (v !== v && c === c)) { acc[j] = v; arg[j] = r; }
          }
        } else {
          for (let j = 0; j < inner; j++) {
            const v = src[row + j], c = acc[j];
            if (v < c || (v !== v && c === c)) { acc[j] = v; arg[j] = r; }
          }
        }
      }
    }
    out.set(isArg ? arg : acc, o * inner);
  }
}

// ---- matmul -----------------------------------------------------------------------------------------------------

/**
 * res[r0 + i·n + j] = Σ_q A[a0 + i·aRow + q·aK] · B[b0 + q·bK + j·bCol], q = 0, 1, ... in order. Outputs are computed
 * in 2 × 4 tiles: eight sums live in registers while each step loads 2 + 4 values, a third of the loads of a plain dot
 * product per output. The sums stay separate, so each is the reference's sum.
 */
function gemm(res: Float64Array, r0: number, A: TypedArray, a0: number, aRow: number, aK: number,
  B: TypedArray, b0: number, bK: number, bCol: number, m: number, k: number, n: number): void {
  const b2 = 2 * bCol, b3 = 3 * bCol;
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const x0 = a0 + i * aRow, o0 = r0 + i * n, o1 = o0 + n;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let q = 0, x = x0, y = b0 + j * bCol; q < k; q++, x += aK, y += bK) {
        const u = A[x], v = A[x + aRow], c0 = B[y], c1 = B[y + bCol], c2 = B[y + b2], c3 = B[y + b3];
        s00 += u * c0; s01 += u * c1; s02 += u * c2; s03 += u * c3;
        s10 += v * c0; s11 += v * c1; s12 += v * c2; s13 += v * c3;
      }
      res[o0 + j] = s00; res[o0 + j + 1] = s01; res[o0 + j + 2] = s02; res[o0 + j + 3] = s03;
      res[o1 + j] = s10; res[o1 + j + 1] = s11; res[o1 + j + 2] = s12; res[o1 + j + 3] = s13;
    }
    for (; j < n; j++) {
      let s0 = 0, s1 = 0;
      for (let q = 0, x = x0, y = b0 + j * bCol; q < k; q++, x += aK, y += bK) { const c = B[y]; s0 += A[x] * c; s1 += A[x + aRow] * c; }
      res[o0 + j] = s0; res[o1 + j] = s1;
    }
  }
  for (; i < m; i++) {
    const x0 = a0 + i * aRow, o = r0 + i * n;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0, x = x0, y = b0 + j * bCol; q < k; q++, x += aK, y += bK) s += A[x] * B[y];
      res[o + j] = s;
    }
  }
}

/**
 * A copy of the [rows, k] matrix at `base` (strides `sRow`, `sK`) that is contiguous along k. `gemm` reads any strides,
 * but a long k walked with a large stride touches a new cache line per step; big operands are therefore packed first.
 */
function packAlongK(src: TypedArray, base: number, sRow: number, sK: number, rows: number, k: number, into: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    for (let q = 0, from = base + r * sRow; q < k; q++, from += sK) into[r * k + q] = src[from];
  }
}

/** Pack an operand when k is long, its k-stride is not 1, and it is reused by many rows (columns) of the output. */
const shouldPack = (sK: number, k: number, reuse: number) => sK !== 1 && k >= 256 && reuse >= 64;

/**
 * out [batch, m, n] = a [batch, m, k] · b [batch, k, n] (+ bias[p·biasStride + j], then ReLU), any strides (0 for a
 * broadcast batch). Every output sums its k products in order in a JS double and is rounded once, as in the reference.
 */
export function matmulFast(out: TypedArray, da: TypedArray, a: View, db: TypedArray, b: View,
  batch: number, m: number, k: number, n: number, bias: TypedArray | null, biasStride: number, relu: boolean): void {
  const [sab, sam, sak] = a.strides, [sbb, sbk, sbn] = b.strides;
  const packA = shouldPack(sak, k, n) ? new Float64Array(m * k) : null;
  const packB = shouldPack(sbk, k, m) ? new Float64Array(n * k) : null;
  // float64 results go straight into `out`; other dtypes (and the epilogue) go through a float64 block first
  const direct = out instanceof Float64Array;
  const res = direct ? out : new Float64Array(m * n);
  for (let p = 0; p < batch; p++) {
    let A: TypedArray = da, aBase = a.offset + p * sab, aRow = sam, aK = sak;
    if (packA) {
      if (p === 0 || sab !== 0) packAlongK(da, aBase, sam, sak, m, k, packA); // a broadcast batch is packed once
      A = packA; aBase = 0; aRow = k; aK = 1;
    }
    let B: TypedArray = db, bBase = b.offset + p * sbb, bCol = sbn, bK = sbk;
    if (packB) {
      if (p === 0 || sbb !== 0) packAlongK(db, bBase, sbn, sbk, n, k, packB);
      B = packB; bBase = 0; bCol = k; bK = 1;
    }
    const r0 = direct ? p * m * n : 0, o0 = p * m * n;
    gemm(res, r0, A, aBase, aRow, aK, B, bBase, bK, bCol, m, k, n);
    if (!direct || bias || relu) {
      const biasBase = p * biasStride;
      for (let i = 0; i < m; i++) {
        for (let j = 0, r = r0 + i * n, o = o0 + i * n; j < n; j++) {
          let v = res[r + j];
          if (bias) v += bias[biasBase + j];
          if (relu) v = v > 0 ? v : v <= 0 ? 0 : NaN;
          out[o + j] = v;
        }
      }
    }
  }
}
