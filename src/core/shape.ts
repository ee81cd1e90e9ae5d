/**
 * Shape arithmetic shared by every floor: sizes, strides, broadcasting, axis normalisation (and the shape checks of
 * user input).
 * Kept in one place so that no two files compute a broadcast (or a stride) their own way.
 */
import { check, fmtShape } from './errors.js';

export type Shape = readonly number[];

export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

/** Row-major (C-order) strides of a contiguous tensor. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== s) return false;
    s *= shape[i];
  }
  return true;
}

/** NumPy broadcasting of two shapes; throws naming the op when they do not broadcast. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    check(da === db || da === 1 || db === 1, op,
      () => `shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (dimension ${i} of the result: ${da} vs ${db}); ` +
        'sizes must be equal or one of them 1');
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a tensor of `shape`/`strides` as if it had `target` shape (broadcast dims get stride 0). */
export function broadcastStrides(shape: Shape, strides: readonly number[], target: Shape): number[] {
  const out = new Array<number>(target.length).fill(0);
  const off = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[off + i] = shape[i] === 1 && target[off + i] !== 1 ? 0 : strides[i];
  return out;
}

/** Normalises one axis (negative counts from the end). */
export function normAxis(op: string, axis: number, ndim: number): number {
  check(Number.isInteger(axis) && axis >= -ndim && axis < Math.max(ndim, 1), op,
    () => `axis ${axis} is out of range for a tensor of ${ndim} dimension(s) (valid: ${-ndim}..${ndim - 1})`);
  return axis < 0 ? axis + ndim : axis;
}

/** Normalises a list of axes (undefined = all), sorted and without duplicates. */
export function normAxes(op: string, axes: number | readonly number[] | undefined, ndim: number): number[] {
  if (axes === undefined) return [...Array(ndim).keys()];
  check(typeof axes === 'number' || Array.isArray(axes), op, () => `axes must be a number or a list of numbers, got ${JSON.stringify(axes)}`);
  const list = (typeof axes === 'number' ? [axes] : axes).map((a) => normAxis(op, a, ndim));
  const set = [...new Set(list)].sort((x, y) => x - y);
  check(set.length === list.length, op, `axes ${JSON.stringify(axes)} repeat an axis`);
  return set;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function checkShape(op: string, shape: Shape): void {
  check(Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0), op,
    () => `shape ${JSON.stringify(shape)} must be a list of non-negative integers`);
  checkElements(op, sizeOf(shape), shape);
}

/** Kernels index elements with 32-bit integers, and the host arrays behind a tensor top out near there too. */
export const MAX_ELEMENTS = 2 ** 31 - 1;
export function checkElements(op: string, n: number, shape?: Shape): void {
  check(n <= MAX_ELEMENTS, op, () => `${shape ? `shape ${fmtShape(shape)} has` : 'that is'} ${n} elements; a tensor holds at ` +
    `most 2^31 − 1 (${MAX_ELEMENTS}): split the data into smaller tensors`);
}

/**
 * Merges adjacent dimensions that every view walks contiguously, and drops size-1 dimensions, so that kernels see
 * the lowest rank (and often rank 1, a plain contiguous loop). Returns the collapsed shape and each view's strides.
 */
export function collapseDims(shape: Shape, stridesList: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = stridesList.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && stridesList.every((s, j) => outStrides[j][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      stridesList.forEach((s, j) => { outStrides[j][last] = s[d]; });
    } else {
      outShape.push(shape[d]);
      stridesList.forEach((s, j) => outStrides[j].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}
