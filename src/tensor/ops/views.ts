/**
 * Shape and layout ops. reshape (of contiguous data), permute/transpose, expand, slice, squeeze/unsqueeze are views
 * sharing storage; concat/stack/contiguous/clone copy. Every one is recorded for autograd.
 */
import { type DType, type DeviceName, checkDType } from '../../kernels/backend.js';
import { GpugradError, check, fmtShape } from '../../core/errors.js';
import { checkShape, contiguousStrides, normAxis, sizeOf } from '../../core/shape.js';
import { record } from '../autograd-seam.js';
import { getBackend } from '../device.js';
import { Tensor } from '../tensor.js';
import { assertTensor, promote } from './util.js';

export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous) return x;
  return clone(x);
}

/** A contiguous copy (recorded: its gradient is the identity). */
export function clone(x: Tensor): Tensor {
  return record('clone', [x], Tensor.fromStorage(x.storage.backend.copy(x.kernelView()), x.shape));
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor('reshape', x);
  const inferred = shape.filter((d) => d === -1).length;
  check(inferred <= 1, 'reshape', () => `only one dimension can be -1, got ${fmtShape(shape)}`);
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const target = shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.size / known) : d));
  checkShape('reshape', target);
  check(sizeOf(target) === x.size, 'reshape',
    () => `cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`);
  if (x.isContiguous) return record('reshape', [x], x.viewAs(target, contiguousStrides(target), x.offset));
  // a copy, not recorded (reshape's own node connects x to the result) and released once the result shares its storage
  const copy = Tensor.fromStorage(x.storage.backend.copy(x.kernelView()), x.shape);
  const out = copy.viewAs(target, contiguousStrides(target), 0);
  copy.dispose();
  return record('reshape', [x], out);
}

/** reshape that never copies, as PyTorch's view: the tensor must be contiguous. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor('view', x);
  check(x.isContiguous, 'view', () => `the tensor ${fmtShape(x.shape)} is not contiguous (strides ${fmtShape(x.strides)}: ` +
    'a transposed, permuted or sliced view), so it cannot be viewed as another shape without a copy; use reshape(), ' +
    'which copies when it must, or contiguous() first');
  return reshape(x, shape);
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis('flatten', startDim, x.ndim), e = normAxis('flatten', endDim, x.ndim);
  check(s <= e, 'flatten', `startDim ${startDim} comes after endDim ${endDim}`);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  assertTensor('permute', x);
  check(dims.length === x.ndim, 'permute', () => `needs ${x.ndim} dims for a tensor of shape ${fmtShape(x.shape)}, got ${fmtShape(dims)}`);
  const d = dims.map((a) => normAxis('permute', a, x.ndim));
  check(new Set(d).size === d.length, 'permute', () => `dims ${fmtShape(dims)} repeat an axis`);
  const out = x.viewAs(d.map((i) => x.shape[i]), d.map((i) => x.strides[i]), x.offset);
  return record('permute', [x], out, { dims: d });
}

export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  check(x.ndim >= 2 || (x.ndim === 1 && dim0 === -2), 'transpose', () => `needs at least 2 dimensions, got ${fmtShape(x.shape)}`);
  if (x.ndim < 2) return x;
  const a = normAxis('transpose', dim0, x.ndim), b = normAxis('transpose', dim1, x.ndim);
  const dims = [...Array(x.ndim).keys()];
  [dims[a], dims[b]] = [dims[b], dims[a]];
  return permute(x, dims);
}

/** Broadcasts size-1 dimensions (and new leading ones) to `shape` without copying; -1 keeps a size. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor('expand', x);
  check(shape.length >= x.ndim, 'expand', () => `cannot expand ${fmtShape(x.shape)} to fewer dimensions ${fmtShape(shape)}`);
  const off = shape.length - x.ndim;
  const target = shape.map((d, i) => (d === -1 && i >= off ? x.shape[i - off] : d));
  const strides = target.map((d, i) => {
    if (i < off) return 0;
    const src = x.shape[i - off];
    check(src === d || src === 1, 'expand', () => `cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)} (dimension ${i}: ${src} → ${d})`);
    return src === d ? x.strides[i - off] : 0;
  });
  checkShape('expand', target);
  return record('expand', [x], x.viewAs(target, strides, x.offset));
}

export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis('squeeze', axis, x.ndim);
  if (x.shape[a] !== 1) return x;
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('unsqueeze', axis, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Elements start..end-1 along `axis` (negative indices count from the end; out-of-range ends are clamped). */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  assertTensor('slice', x);
  const a = normAxis('slice', axis, x.ndim);
  const n = x.shape[a];
  const norm = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const s = norm(start), e = Math.max(s, norm(end ?? n));
  check(Number.isInteger(start) && (end === undefined || Number.isInteger(end)), 'slice', 'start and end must be integers');
  const shape = [...x.shape];
  shape[a] = e - s;
  const out = x.viewAs(shape, x.strides, x.offset + s * x.strides[a]);
  return record('slice', [x], out, { axis: a, start: s });
}

/** Joins tensors along an existing axis. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  const first = checkJoin('concat', tensors);
  const a = normAxis('concat', axis, first.ndim);
  for (const t of tensors) {
    check(t.ndim === first.ndim && t.shape.every((d: number, i: number) => i === a || d === first.shape[i]), 'concat',
      () => `shapes ${tensors.map((x) => fmtShape(x.shape)).join(', ')} differ outside axis ${a}`);
  }
  const sizes = tensors.map((t) => t.shape[a]);
  const shape = [...first.shape];
  shape[a] = sizes.reduce((x, y) => x + y, 0);
  // part i is written through a strided view of the output: its slab along `axis`
  const strides = contiguousStrides(shape);
  let start = 0;
  const starts = sizes.map((n) => (start += n) - n); // where each part begins along the axis
  const out = join(tensors, shape, (i) => ({ strides, offset: starts[i] * strides[a] }));
  return record('concat', [...tensors], out, { axis: a, sizes });
}

/**
 * Joins same-shaped tensors along a new axis. Each input is copied straight into its slab of the output (the output's
 * strides with the new axis left out), so no unsqueezed views are made: they would outlive the call.
 */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  const first = checkJoin('stack', tensors);
  const a = normAxis('stack', axis, first.ndim + 1);
  for (const t of tensors) {
    check(t.ndim === first.ndim && t.shape.every((d: number, i: number) => d === first.shape[i]), 'stack',
      () => `all tensors need the same shape, got ${tensors.map((x) => fmtShape(x.shape)).join(', ')}`);
  }
  const shape = [...first.shape];
  shape.splice(a, 0, tensors.length);
  const strides = contiguousStrides(shape);
  const slab = strides.filter((_, i) => i !== a);
  const out = join(tensors, shape, (i) => ({ strides: slab, offset: i * strides[a] }));
  return record('stack', [...tensors], out, { axis: a });
}

/** concat's and stack's argument checks: a non-empty list of tensors on one device. Returns the first. */
function checkJoin(op: string, tensors: readonly Tensor[]): Tensor {
  check(Array.isArray(tensors) && tensors.length > 0, op, 'needs a non-empty list of tensors');
  tensors.forEach((t, i) => assertTensor(op, t, `element ${i}`));
  for (const t of tensors) check(t.device === tensors[0].device, op, `tensors are on different devices (${tensors[0].device} and ${t.device})`);
  return tensors[0];
}

/**
 * A new tensor of `shape` (in the tensors' promoted dtype) into which tensor i is copied through the strided view
 * `place(i)` of the output's storage. A tensor of another dtype is converted first, and that copy released at once.
 */
function join(tensors: readonly Tensor[], shape: readonly number[],
  place: (i: number) => { strides: readonly number[]; offset: number }): Tensor {
  const dtype = tensors.map((t) => t.dtype).reduce(promote);
  const backend = getBackend(tensors[0].device);
  const out = Tensor.fromStorage(backend.alloc(sizeOf(shape), dtype), shape);
  tensors.forEach((t, i) => {
    if (t.size === 0) return;
    const p = t.dtype === dtype ? t : Tensor.fromStorage(backend.copy(t.kernelView(), dtype), t.shape);
    backend.copyInto(p.kernelView(), { storage: out.storage, shape: p.shape, ...place(i) });
    if (p !== t) p.dispose();
  });
  return out;
}

/** dtype conversion (a copy); float-to-float conversions carry gradients. */
export function cast(x: Tensor, dtype: DType): Tensor {
  assertTensor('cast', x);
  checkDType('cast', dtype);
  if (x.dtype === dtype) return x;
  check(x.storage.backend.supportsDType(dtype), 'cast', `dtype ${dtype} is not available on ${x.device}`);
  const out = Tensor.fromStorage(x.storage.backend.copy(x.kernelView(), dtype), x.shape);
  return dtype === 'int32' || x.dtype === 'int32' ? out : record('cast', [x], out);
}

/** Copies a tensor to another device (reads back through the host). */
export async function to(x: Tensor, device: DeviceName): Promise<Tensor> {
  assertTensor('to', x);
  check(device === 'cpu' || device === 'webgpu', 'to', () => `needs a device name, 'webgpu' or 'cpu', got ${JSON.stringify(device)}`);
  if (x.device === device) return x;
  const target = getBackend(device);
  const data = await x.data();
  if (!target.supportsDType(x.dtype)) throw new GpugradError(`to: ${x.dtype} is not available on ${device}; cast first`);
  const out = Tensor.fromStorage(target.upload(data, x.dtype), x.shape);
  return out;
}
