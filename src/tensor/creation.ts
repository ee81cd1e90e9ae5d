/** Creating tensors: from data, constants, ranges and seeded random numbers (drawn on the host, so every device agrees). */
import { type DType, type DeviceName, type TypedArray, checkDType } from '../kernels/backend.js';
import { GpugradError, check } from '../core/errors.js';
import { checkElements, checkShape, sizeOf } from '../core/shape.js';
import { toInt32 } from '../kernels/cpu/elementwise.js';
import { getBackend, getDevice } from './device.js';
import { type Generator, defaultGenerator } from './random.js';
import { type NestedArray, Tensor } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: DeviceName;
  requiresGrad?: boolean;
}

function arrayFor(dtype: DType, values: ArrayLike<number>): TypedArray {
  if (dtype === 'int32') return Int32Array.from(values as ArrayLike<number>, toInt32);
  return dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
}

function make(values: TypedArray, shape: readonly number[], opts: TensorOptions, dtype: DType): Tensor {
  checkDType('tensor', dtype);
  const backend = getBackend(opts.device ?? getDevice());
  check(backend.supportsDType(dtype), 'tensor', `dtype ${dtype} is not available on ${backend.name}; use the cpu or wasm device for float64`);
  const t = Tensor.fromStorage(backend.upload(values, dtype), shape);
  if (opts.requiresGrad) t.requiresGrad_();
  return t;
}

/** The shape of nested arrays, checked all the way down: every array at depth d has shape[d] entries. */
function inferShape(data: NestedArray, op: string): number[] {
  const shape: number[] = [];
  let x: NestedArray = data;
  while (Array.isArray(x)) { shape.push(x.length); x = x[0]; }
  const walk = (v: unknown, d: number, path: string): void => {
    const here = Array.isArray(v) ? `${v.length} entries` : 'a value';
    check(d === shape.length ? !Array.isArray(v) : Array.isArray(v) && v.length === shape[d], op,
      () => `nested arrays are ragged: data${path} has ${here} where shape [${shape}] (from the first entries) wants ` +
        `${d === shape.length ? 'a number' : `${shape[d]} entries`}`);
    if (Array.isArray(v)) v.forEach((w, i) => walk(w, d + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
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
    check(Array.isArray(data), 'tensor', () => `data must be a number, an array (nested for more dimensions) or a typed ` +
      `array, got ${data === null ? 'null' : typeof data}${typeof data === 'string' ? ` ${JSON.stringify(data)}` : ''}`);
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
  check(typeof value === 'number', 'full', () => `the fill value must be a number, got ${typeof value}`);
  const dtype = opts.dtype ?? 'float32';
  checkDType('full', dtype);
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
  check([start, end, step].every(Number.isFinite), 'arange', () => `start, end and step must be finite numbers, got ${start}, ${end}, ${step}`);
  check(step !== 0, 'arange', 'step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  checkElements('arange', n);
  const dtype = opts.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = start + i * step;
  return make(arrayFor(dtype, v), [n], opts, dtype);
}

/** `steps` evenly spaced values from start to end, both included (computed in float64, as NumPy). */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  check(Number.isInteger(steps) && steps >= 0, 'linspace', `steps must be a non-negative integer, got ${steps}`);
  checkElements('linspace', steps);
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
  check(op === 'randint' || dtype !== 'int32', op, `draws floating-point numbers; for integers use randint(low, high, shape)`);
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

// ---- cached scalar constants (for `t.add(2)`): internal tensors, not counted by memory() -------------------------
// The cache owns them and disposes them all when it is full; a recorded graph that still needs one holds its own
// alias (see recordOp in src/autograd/graph.ts), so eviction never pulls a value from under a pending backward.
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
