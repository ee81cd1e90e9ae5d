/**
 * The CPU backend: plain loops over typed arrays. It is the reference every WGSL kernel is tested against, the device
 * that runs when no WebGPU adapter exists, and the only one with float64 (for finite-difference gradient checks).
 * The loops here are written to be read, not to be fast: they are the reference. ./fast.ts has the same arithmetic
 * without a closure call per element, and every op below takes it while `fastPaths.enabled` (the default).
 */
import type {
  AdamStep, Backend, BinaryOp, Conv2dGeom, DType, MatmulEpilogue, Pool2dGeom, ReduceOp, Storage, TypedArray, UnaryOp, View,
} from '../backend.js';
import { checkElements, sizeOf } from '../../core/shape.js';
import { binaryFns, toInt32, unaryFns } from './elementwise.js';
import { binaryFast, copyFast, copyIntoFast, fastPaths, matmulFast, reduceFast, unaryFast, whereFast } from './fast.js';
import { gatherBytes } from './gather.js';
import * as vision from './vision.js';

export class CpuStorage implements Storage {
  constructor(readonly backend: CpuBackend, readonly data: TypedArray, readonly dtype: DType) {}
  get length() { return this.data.length; }
}

export function makeArray(dtype: DType, length: number): TypedArray {
  checkElements('cpu', length); // an op's output (a broadcast) can be larger than any input: refused, not a RangeError
  switch (dtype) {
    case 'float32': return new Float32Array(length);
    case 'int32': return new Int32Array(length);
    case 'float64': return new Float64Array(length);
  }
}

const arr = (s: Storage) => (s as CpuStorage).data;

/** Calls `fn(outIndex, ...inputIndices)` for every element of `shape`, walking the views' strides. */
export function forEachIndex(shape: readonly number[], views: readonly View[], fn: (i: number, idx: number[]) => void): void {
  const n = sizeOf(shape);
  const rank = shape.length;
  const coord = new Array<number>(rank).fill(0);
  const idx = views.map((v) => v.offset);
  for (let i = 0; i < n; i++) {
    fn(i, idx);
    // advance the odometer
    for (let d = rank - 1; d >= 0; d--) {
      coord[d]++;
      for (let j = 0; j < views.length; j++) idx[j] += views[j].strides[d];
      if (coord[d] < shape[d]) break;
      for (let j = 0; j < views.length; j++) idx[j] -= views[j].strides[d] * shape[d];
      coord[d] = 0;
    }
  }
}

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  describe() { return 'CPU (TypeScript reference backend)'; }
  supportsDType(_dtype: DType) { return true; }

  alloc(length: number, dtype: DType): Storage { return new CpuStorage(this, makeArray(dtype, length), dtype); }
  upload(data: TypedArray, dtype: DType): Storage {
    const out = makeArray(dtype, data.length);
    out.set(data);
    return new CpuStorage(this, out, dtype);
  }
  async read(s: Storage): Promise<TypedArray> { return arr(s).slice(); }
  release(_s: Storage) { /* garbage-collected */ }
  flush() {}

  fill(length: number, value: number, dtype: DType): Storage {
    const s = this.alloc(length, dtype);
    arr(s).fill(value);
    return s;
  }

  copy(x: View, dtype: DType = x.storage.dtype): Storage {
    const out = makeArray(dtype, sizeOf(x.shape));
    const src = arr(x.storage);
    const truncate = dtype === 'int32' && x.storage.dtype !== 'int32';
    const conv = truncate ? toInt32 : (v: number) => v;
    if (fastPaths.enabled) copyFast(out, src, x, truncate);
    else forEachIndex(x.shape, [x], (i, [j]) => { out[i] = conv(src[j]); });
    return new CpuStorage(this, out, dtype);
  }

  gatherBytes(table: Storage, rows: Storage, start: number, count: number, rowLen: number, lut: Storage | null): Storage {
    const out = gatherBytes(arr(table) as Int32Array, arr(rows) as Int32Array, start, count, rowLen,
      lut ? arr(lut) as Float32Array : null);
    return new CpuStorage(this, out, lut ? 'float32' : 'int32');
  }

  copyInto(src: View, dst: View): void {
    const from = arr(src.storage), to = arr(dst.storage);
    if (fastPaths.enabled) copyIntoFast(from, src, to, dst);
    else forEachIndex(src.shape, [src, dst], (_i, [i, j]) => { to[j] = from[i]; });
  }

  unary(op: UnaryOp, x: View): Storage {
    const f = unaryFns[op];
    const out = makeArray(x.storage.dtype, sizeOf(x.shape));
    const src = arr(x.storage);
    if (fastPaths.enabled) unaryFast(op, out, src, x);
    else forEachIndex(x.shape, [x], (i, [j]) => { out[i] = f(src[j]); });
    return new CpuStorage(this, out, x.storage.dtype);
  }

  binary(op: BinaryOp, a: View, b: View, outShape: readonly number[]): Storage {
    const f = binaryFns[op];
    const out = makeArray(a.storage.dtype, sizeOf(outShape));
    const da = arr(a.storage), db = arr(b.storage);
    const isInt = a.storage.dtype === 'int32';
    if (fastPaths.enabled) binaryFast(op, isInt, out, da, a, db, b, outShape);
    else forEachIndex(outShape, [a, b], (i, [ia, ib]) => {
      const r = f(da[ia], db[ib]);
      out[i] = isInt && op === 'div' ? Math.trunc(r) : r;
    });
    return new CpuStorage(this, out, a.storage.dtype);
  }

  where(cond: View, a: View, b: View, outShape: readonly number[]): Storage {
    const out = makeArray(a.storage.dtype, sizeOf(outShape));
    const dc = arr(cond.storage), da = arr(a.storage), db = arr(b.storage);
    if (fastPaths.enabled) whereFast(out, dc, cond, da, a, db, b, outShape);
    else forEachIndex(outShape, [cond, a, b], (i, [ic, ia, ib]) => { out[i] = dc[ic] !== 0 ? da[ia] : db[ib]; });
    return new CpuStorage(this, out, a.storage.dtype);
  }

  reduce(op: ReduceOp, x: Storage, outer: number, reduce: number, inner: number): Storage {
    const isArg = op === 'argmax' || op === 'argmin';
    const out = makeArray(isArg ? 'int32' : x.dtype, outer * inner);
    const src = arr(x);
    if (fastPaths.enabled) {
      reduceFast(op, out, src, outer, reduce, inner);
      return new CpuStorage(this, out, isArg ? 'int32' : x.dtype);
    }
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * reduce * inner + j;
        let acc = op === 'sum' ? 0 : op === 'max' || op === 'argmax' ? -Infinity : Infinity;
        let arg = 0;
        for (let r = 0; r < reduce; r++) {
          const v = src[base + r * inner];
          if (op === 'sum') acc += v;
          else if (Number.isNaN(v)) { if (!Number.isNaN(acc)) { acc = v; arg = r; } }
          else if ((op === 'max' || op === 'argmax') ? v > acc : (op === 'min' || op === 'argmin') && v < acc) { acc = v; arg = r; }
        }
        out[o * inner + j] = isArg ? arg : acc;
      }
    }
    return new CpuStorage(this, out, isArg ? 'int32' : x.dtype);
  }

  matmul(a: View, b: View, batch: number, m: number, k: number, n: number, epilogue: MatmulEpilogue = {}): Storage {
    const out = makeArray(a.storage.dtype, batch * m * n);
    const da = arr(a.storage), db = arr(b.storage);
    if (fastPaths.enabled) {
      matmulFast(out, da, a, db, b, batch, m, k, n, epilogue.bias ? arr(epilogue.bias) : null, epilogue.biasBatchStride ?? 0,
        epilogue.relu === true);
      return new CpuStorage(this, out, a.storage.dtype);
    }
    const [sab, sam, sak] = a.strides, [sbb, sbk, sbn] = b.strides;
    for (let p = 0; p < batch; p++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          const ia = a.offset + p * sab + i * sam, ib = b.offset + p * sbb + j * sbn;
          for (let q = 0; q < k; q++) acc += da[ia + q * sak] * db[ib + q * sbk];
          if (epilogue.bias) acc += arr(epilogue.bias)[p * (epilogue.biasBatchStride ?? 0) + j];
          out[(p * m + i) * n + j] = epilogue.relu ? unaryFns.relu(acc) : acc;
        }
      }
    }
    return new CpuStorage(this, out, a.storage.dtype);
  }

  adam(param: Storage, grad: Storage, m: Storage, v: Storage, s: AdamStep): void {
    const p = arr(param), g = arr(grad), mm = arr(m), vv = arr(v);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + s.weightDecay * p[i];
      mm[i] = s.beta1 * mm[i] + (1 - s.beta1) * gi;
      vv[i] = s.beta2 * vv[i] + (1 - s.beta2) * gi * gi;
      const mHat = mm[i] / s.bc1, vHat = vv[i] / s.bc2;
      p[i] -= (s.lr * mHat) / (Math.sqrt(vHat) + s.eps);
    }
  }

  // ---- vision: the loops live in ./vision.ts ----
  private wrap(data: TypedArray): Storage {
    return new CpuStorage(this, data, data instanceof Int32Array ? 'int32' : data instanceof Float64Array ? 'float64' : 'float32');
  }
  conv2d(x: Storage, w: Storage, bias: Storage | null, g: Conv2dGeom): Storage {
    return this.wrap(vision.conv2d(arr(x), arr(w), bias && arr(bias), g));
  }
  conv2dBackwardInput(gradOut: Storage, w: Storage, g: Conv2dGeom): Storage {
    return this.wrap(vision.conv2dBackwardInput(arr(gradOut), arr(w), g));
  }
  conv2dBackwardWeight(x: Storage, gradOut: Storage, g: Conv2dGeom): Storage {
    return this.wrap(vision.conv2dBackwardWeight(arr(x), arr(gradOut), g));
  }
  maxPool2d(x: Storage, g: Pool2dGeom): { out: Storage; indices: Storage } {
    const r = vision.maxPool2d(arr(x), g);
    return { out: this.wrap(r.out), indices: this.wrap(r.indices) };
  }
  maxPool2dBackward(gradOut: Storage, indices: Storage, g: Pool2dGeom): Storage {
    return this.wrap(vision.maxPool2dBackward(arr(gradOut), arr(indices), g));
  }
  poolGather(x: Storage, indices: Storage, g: Pool2dGeom): Storage {
    return this.wrap(vision.poolGather(arr(x), arr(indices), g));
  }
  dropout(x: Storage, p: number, seed: readonly [number, number]): Storage {
    return this.wrap(vision.dropout(arr(x), p, seed));
  }
  crossEntropy(logits: Storage, labels: Storage, batch: number, classes: number): Storage {
    return this.wrap(vision.crossEntropy(arr(logits), arr(labels), batch, classes));
  }
  crossEntropyBackward(logits: Storage, labels: Storage, gradOut: Storage, batch: number, classes: number): Storage {
    return this.wrap(vision.crossEntropyBackward(arr(logits), arr(labels), arr(gradOut), batch, classes));
  }
  countCorrect(logits: Storage, labels: Storage, batch: number, classes: number): Storage {
    return this.wrap(vision.countCorrect(arr(logits), arr(labels), batch, classes));
  }
}
