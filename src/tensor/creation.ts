/** Creating tensors: from data, constants, ranges and seeded random numbers (drawn on the host, so every device agrees). */
import type { DType, DeviceName, TypedArray } from '../kernels/backend.js';
import { GpugradError, check } from '../kernels/errors.js';
import { checkShape, sizeOf } from '../kernels/shape.js';
import { getBackend, getDevice } from './device.js';
import { type Generator, defaultGenerator } from './random.js';
import { type NestedArray, Tensor } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: DeviceName;
  requiresGrad?: boolean;
}

function arrayFor(dtype: DType, values: ArrayLike<number>): TypedArray {
  if (dtype === 'int32') return Int32Array.from(values as ArrayLike<number>, (v) => Math.trunc(v));
  return dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
}

function make(values: TypedArray, shape: readonly number[], opts: TensorOptions, dtype: DType): Tensor {
  const backend = getBackend(opts.device ?? getDevice());
  check(backend.supportsDType(dtype), 'tensor', `dtype ${dtype} is not available on ${backend.name}; use the cpu or wasm device for float64`);
  const t = Tensor.fromStorage(backend.upload(values, dtype), shape);
  if (opts.requiresGrad) t.requiresGrad_();
  return t;
}

function inferShape(data: NestedArray, op: string): number[] {
  const shape: number[] = [];
  let x: NestedArray = data;
  while (Array.isArray(x)) { shape.push(x.length); x = x[0]; }
  const flat = (data as NestedArray[]).flat(Infinity as 1) as unknown[];
  check(flat.length === sizeOf(shape), op, `nested arrays are ragged (expected ${sizeOf(shape)} numbers for shape [${shape}], got ${flat.length})`);
  return shape;
}

/** A tensor from nested arrays, a typed array (with an optional shape) or a number. */
export function tensor(data: NestedArray | TypedArray | readonly number[], opts: TensorOptions & { shape?: readonly number[] } = {}): Tensor {
  let values: ArrayLike<number>;
  let shape: readonly number[];
  if (ArrayBuffer.isView(data)) {
    values = data as TypedArray;
    shape = opts.shape ?? [values.length];
  } else if (typeof data === 'number') {
    values = [data];
    shape = opts.shape ?? [];
  } else {
    shape = inferShape(data as NestedArray, 'tensor');
    values = (data as NestedArray[]).flat(Infinity as 1) as number[];
    if (opts.shape) shape = opts.shape;
  }
  checkShape('tensor', shape);
  check(sizeOf(shape) === values.length, 'tensor', `${values.length} values do not fill shape [${shape}] (${sizeOf(shape)} elements)`);
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== 'number') throw new GpugradError(`tensor: element ${i} is ${typeof values[i]}, not a number`);
  }
  const dtype = opts.dtype ?? (data instanceof Int32Array ? 'int32' : data instanceof Float64Array ? 'float64' : 'float32');
  return make(arrayFor(dtype, values), shape, opts, dtype);
}

export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  checkShape('full', shape);
  const dtype = opts.dtype ?? 'float32';
  const backend = getBackend(opts.device ?? getDevice());
  check(backend.supportsDType(dtype), 'full', `dtype ${dtype} is not available on ${backend.name}`);
  const t = Tensor.fromStorage(backend.fill(sizeOf(shape), value, dtype), shape);
  if (opts.requiresGrad) t.requiresGrad_();
  return t;
}

export const zeros = (shape: readonly number[], opts: TensorOptions = {}) => full(shape, 0, opts);
export const ones = (shape: readonly number[], opts: TensorOptions = {}) => full(shape, 1, opts);
export const zerosLike = (t: Tensor, opts: TensorOptions = {}) => full(t.shape, 0, { dtype: t.dtype, device: t.device, ...opts });
export const onesLike = (t: Tensor, opts: TensorOptions = {}) => full(t.shape, 1, { dtype: t.dtype, device: t.device, ...opts });
export const fullLike = (t: Tensor, v: number, opts: TensorOptions = {}) => full(t.shape, v, { dtype: t.dtype, device: t.device, ...opts });

/** Values from start (inclusive) to end (exclusive) by step; `arange(n)` = 0..n-1. */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) { end = start; start = 0; }
  check(step !== 0, 'arange', 'step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = start + i * step;
  return make(arrayFor(dtype, v), [n], opts, dtype);
}

/** `steps` evenly spaced values from start to end, both included (computed in float64, as NumPy). */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  check(Number.isInteger(steps) && steps >= 0, 'linspace', `steps must be a non-negative integer, got ${steps}`);
  const v = new Float64Array(steps);
  const d = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) v[i] = i === steps - 1 && steps > 1 ? end : start + i * d;
  const dtype = opts.dtype ?? 'float32';
  return make(arrayFor(dtype, v), [steps], opts, dtype);
}

type RandOptions = TensorOptions & { generator?: Generator };

function draw(shape: readonly number[], opts: RandOptions, op: string, f: (g: Generator) => number): Tensor {
  checkShape(op, shape);
  const g = opts.generator ?? defaultGenerator;
  const dtype = opts.dtype ?? 'float32';
  const v = new Float64Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = f(g);
  return make(arrayFor(dtype, v), shape, opts, dtype);
}

/** Uniform [0, 1). */
export const rand = (shape: readonly number[], opts: RandOptions = {}) => draw(shape, opts, 'rand', (g) => g.random());
/** Uniform [low, high). */
export const uniform = (shape: readonly number[], low: number, high: number, opts: RandOptions = {}) =>
  draw(shape, opts, 'uniform', (g) => low + (high - low) * g.random());
/** Standard normal. */
export const randn = (shape: readonly number[], opts: RandOptions = {}) => draw(shape, opts, 'randn', (g) => g.normal());
/** Integers in [low, high), int32 by default. */
export function randint(low: number, high: number, shape: readonly number[], opts: RandOptions = {}): Tensor {
  check(Number.isInteger(low) && Number.isInteger(high) && high > low, 'randint', `needs integers low < high, got ${low}, ${high}`);
  return draw(shape, { dtype: 'int32', ...opts }, 'randint', (g) => g.int(low, high));
}

// ---- cached scalar constants (for `t.add(2)`): internal tensors, never disposed, not counted by memory() ----------
const constants = new Map<string, Tensor>();

export function constant(value: number, dtype: DType, device: DeviceName): Tensor {
  const key = `${device}:${dtype}:${Object.is(value, -0) ? '-0' : value}`;
  let t = constants.get(key);
  if (t && !t.isDisposed) return t;
  if (constants.size > 4096) { for (const c of constants.values()) c.dispose(); constants.clear(); }
  t = Tensor.fromStorage(getBackend(device).upload(arrayFor(dtype, [value]), dtype), [], true);
  constants.set(key, t);
  return t;
}
