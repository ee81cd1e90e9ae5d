/** Reductions over any set of axes, with keepDim: sum, mean, max, min (differentiable), argmax, argmin. */
import type { ReduceOp } from '../../kernels/backend.js';
import { check, fmtShape } from '../../core/errors.js';
import { normAxes, normAxis, sizeOf } from '../../core/shape.js';
import { record } from '../autograd-seam.js';
import { Tensor } from '../tensor.js';
import { assertTensor, releaseIntermediates } from './util.js';
import { mul } from './elementwise.js';
import { permute } from './views.js';

/**
 * Reduces `axes` of x. The kernel reduces the middle axis of a contiguous [outer, R, inner] layout: when the reduced
 * axes are adjacent the data is used as it is; otherwise they are permuted to the end and copied once.
 */
function reduceRaw(op: ReduceOp, x: Tensor, axes: number[], keepDim: boolean): Tensor {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepDim ? kept : x.shape.filter((_, i) => !axes.includes(i));
  const backend = x.storage.backend;
  const adjacent = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  let outer: number, R: number, inner: number, src: Tensor;
  if (adjacent && axes.length > 0) {
    src = x.isContiguous ? x : copyOf(x);
    outer = sizeOf(x.shape.slice(0, axes[0]));
    R = sizeOf(axes.map((a) => x.shape[a]));
    inner = sizeOf(x.shape.slice(axes[axes.length - 1] + 1));
  } else {
    const keptAxes = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    src = copyOf(permuteRaw(x, [...keptAxes, ...axes]));
    outer = sizeOf(keptAxes.map((a) => x.shape[a]));
    R = sizeOf(axes.map((a) => x.shape[a]));
    inner = 1;
  }
  // A view that does not start at its storage's beginning is copied (the kernel reads from element 0).
  if (src.offset !== 0) src = copyOf(src);
  const out = Tensor.fromStorage(backend.reduce(op, src.storage, outer, R, inner), outShape);
  if (src !== x) src.dispose();
  return out;
}

function copyOf(x: Tensor): Tensor { return Tensor.fromStorage(x.storage.backend.copy(x.kernelView()), x.shape); }
function permuteRaw(x: Tensor, dims: number[]): Tensor {
  return x.viewAs(dims.map((i) => x.shape[i]), dims.map((i) => x.strides[i]), x.offset);
}

function reduction(op: 'sum' | 'max' | 'min', x: Tensor, axes: number | readonly number[] | undefined, keepDim: boolean): Tensor {
  assertTensor(op, x);
  const ax = normAxes(op, axes, x.ndim);
  if (op !== 'sum') {
    check(ax.every((a) => x.shape[a] > 0), op, () => `cannot take the ${op} over an empty axis of ${fmtShape(x.shape)}`);
  }
  const out = reduceRaw(op, x, ax, keepDim);
  if (x.dtype === 'int32') return out;
  return record(op, [x], out, { axes: ax, keepDim });
}

export const sum = (x: Tensor, axes?: number | readonly number[], keepDim = false) => reduction('sum', x, axes, keepDim);
export const max = (x: Tensor, axes?: number | readonly number[], keepDim = false) => reduction('max', x, axes, keepDim);
export const min = (x: Tensor, axes?: number | readonly number[], keepDim = false) => reduction('min', x, axes, keepDim);

export function mean(x: Tensor, axes?: number | readonly number[], keepDim = false): Tensor {
  assertTensor('mean', x);
  check(x.dtype !== 'int32', 'mean', 'needs a floating-point tensor; cast int32 to float32 first');
  const ax = normAxes('mean', axes, x.ndim);
  const n = sizeOf(ax.map((a) => x.shape[a]));
  const s = sum(x, ax, keepDim);
  const m = mul(s, n === 0 ? NaN : 1 / n);
  releaseIntermediates(m, s);
  return m;
}

function argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepDim: boolean): Tensor {
  assertTensor(op, x);
  if (axis === undefined) {
    check(x.size > 0, op, 'cannot take it of an empty tensor');
    return reduceRaw(op, x, [...x.shape.keys()], false); // all axes: the flat index
  }
  const a = normAxis(op, axis, x.ndim);
  check(x.shape[a] > 0, op, () => `axis ${a} of ${fmtShape(x.shape)} is empty`);
  return reduceRaw(op, x, [a], keepDim);
}

/** Index of the largest element along `axis` (int32; the first one on ties), or of the flattened tensor. */
export const argmax = (x: Tensor, axis?: number, keepDim = false) => argReduce('argmax', x, axis, keepDim);
export const argmin = (x: Tensor, axis?: number, keepDim = false) => argReduce('argmin', x, axis, keepDim);

