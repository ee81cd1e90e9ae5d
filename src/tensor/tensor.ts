/**
 * The Tensor: a shape, a dtype and a device over a ref-counted storage, read through strides and an offset (so
 * reshape/transpose/slice/expand are views, copied only when a kernel needs contiguous data). Its methods delegate to
 * the op functions in `./ops/`; autograd state (`requiresGrad`, `grad`, `gradFn`) is filled in by `src/autograd/`.
 */
import type { DType, DeviceName, Storage, TypedArray, View } from '../kernels/backend.js';
import { GpugradError, fmtShape } from '../core/errors.js';
import { contiguousStrides, isContiguous, sizeOf } from '../core/shape.js';
import { type GradNode, autogradEngine } from './autograd-seam.js';
import { SharedStorage, countTensor, track } from './memory.js';
import * as ops from './ops/index.js';
import type { TensorLike } from './ops/index.js';

let nextId = 1;

(Symbol as unknown as { dispose?: symbol }).dispose ??= Symbol('Symbol.dispose');

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  private shared: SharedStorage;
  private disposed = false;
  /** true for the library's cached constants, which no scope owns and memory() does not count */
  readonly internal: boolean;

  /** Whether gradients flow to this tensor (set on leaves by the user; propagated by ops). */
  requiresGrad = false;
  /** The accumulated gradient of a leaf after `backward()`. */
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor (null for leaves). Owned by src/autograd. */
  gradFn: GradNode | null = null;
  /** Whether backward keeps this non-leaf's gradient in `.grad`. */
  retainsGrad = false;
  /** Optional name (parameters carry theirs; the graph printer shows it). */
  name?: string;
  private hostCache: TypedArray | null = null;
  /** internal aliases this tensor owns (see holdAlias), released with it */
  private held: Tensor[] | null = null;

  constructor(shared: SharedStorage, shape: readonly number[], strides?: readonly number[], offset = 0, internal = false) {
    this.shared = shared;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    this.internal = internal;
    if (!internal) {
      countTensor(this.device, 1);
      track(this);
    }
  }

  /** A new contiguous tensor owning a fresh storage. */
  static fromStorage(storage: Storage, shape: readonly number[], internal = false): Tensor {
    return new Tensor(new SharedStorage(storage, internal), shape, undefined, 0, internal);
  }

  /** A view sharing this tensor's storage. */
  viewAs(shape: readonly number[], strides: readonly number[], offset: number): Tensor {
    return new Tensor(this.live().retain(), shape, strides, offset);
  }

  private live(): SharedStorage {
    if (this.disposed) {
      throw new GpugradError(`tensor #${this.id} ${fmtShape(this.shape)} was used after dispose()` +
        ' (a tidy() scope disposes what it does not return; keep() what must outlive it)');
    }
    return this.shared;
  }

  get storage(): Storage { return this.live().storage; }
  get dtype(): DType { return this.shared.storage.dtype; }
  get device(): DeviceName { return this.shared.storage.backend.name; }
  get size(): number { return sizeOf(this.shape); }
  get ndim(): number { return this.shape.length; }
  get isDisposed(): boolean { return this.disposed; }
  get isContiguous(): boolean { return isContiguous(this.shape, this.strides); }
  /** Contiguous from offset 0 over its whole storage: the tensor alone is its storage (it can own it, or be updated in place). */
  get isDense(): boolean { return this.isContiguous && this.offset === 0 && this.storage.length === this.size; }
  get isLeaf(): boolean { return this.gradFn === null; }

  /** What the backends read: this tensor's storage, shape, strides and offset. */
  kernelView(): View { return { storage: this.storage, shape: this.shape, strides: this.strides, offset: this.offset }; }

  /**
   * An internal alias of `t` (same storage, shape and strides) that this tensor owns and releases when it is disposed.
   * The graph node hung on this tensor uses it to keep a cached scalar constant alive after the constant cache has let
   * the constant go: the cache may evict at any time, the node needs the value until its backward has run.
   */
  holdAlias(t: Tensor): Tensor {
    const alias = new Tensor(t.live().retain(), t.shape, t.strides, t.offset, true);
    (this.held ??= []).push(alias);
    return alias;
  }

  /** Releases this tensor's hold on its storage (and its gradient). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.shared.release();
    if (!this.internal) countTensor(this.device, -1);
    this.grad?.dispose();
    this.grad = null;
    this.gradFn = null;
    if (this.held) for (const h of this.held) h.dispose();
    this.held = null;
  }
  [Symbol.dispose](): void { this.dispose(); }

  // ---- readback -----------------------------------------------------------------------------------------------------

  /** The elements in row-major order, as a typed array of the tensor's dtype. */
  async data(): Promise<TypedArray> {
    const c = this.isContiguous && this.offset === 0 && this.storage.length === this.size ? this : this.contiguousCopy();
    const all = await c.storage.backend.read(c.storage);
    if (c !== this) c.dispose();
    const out = all.length === this.size ? all : all.slice(0, this.size);
    if (this.size <= 1000) this.hostCache = out;
    return out;
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new GpugradError(`item: the tensor has ${this.size} elements ${fmtShape(this.shape)}; item() needs exactly one`);
    return (await this.data())[0];
  }

  /** The elements as nested arrays. */
  async toArray(): Promise<NestedArray> { return nest(Array.from(await this.data()), this.shape); }

  toString(): string {
    const head = `tensor(${fmtShape(this.shape)}, ${this.dtype}, ${this.device}${this.requiresGrad ? ', requiresGrad' : ''})`;
    if (this.disposed) return `${head} <disposed>`;
    let values = this.hostCache;
    if (!values && this.device === 'cpu' && this.size <= 1000) {
      const c = this.contiguousCopy();
      values = (c.storage as unknown as { data: TypedArray }).data;
      c.dispose();
    }
    if (!values) return `${head} <on ${this.device}: await t.data() or t.print() to see values>`;
    return `${head}\n${format(nest(Array.from(values), this.shape))}`;
  }

  /** Prints the tensor with its values (reads back from the device). */
  async print(): Promise<void> {
    await this.data();
    console.log(this.toString());
  }

  private contiguousCopy(): Tensor {
    return Tensor.fromStorage(this.storage.backend.copy(this.kernelView()), this.shape);
  }

  // ---- autograd (delegated to src/autograd through the seam) ---------------------------------------------------------

  /** Back-propagates from this tensor (a scalar unless `grad` is given) into the `.grad` of the leaves. */
  backward(grad?: Tensor, options?: { retainGraph?: boolean; createGraph?: boolean }): void {
    const engine = autogradEngine();
    if (!engine) throw new GpugradError('backward: the autograd engine is not loaded (import from gpugrad\'s index)');
    engine.backward(this, grad, options);
  }
  /** Marks this tensor as a leaf that needs a gradient. */
  requiresGrad_(flag = true): this {
    if (flag && this.dtype === 'int32') throw new GpugradError('requiresGrad: only floating-point tensors can require gradients');
    this.requiresGrad = flag;
    return this;
  }
  /** Keeps this non-leaf tensor's gradient in `.grad` during backward. */
  retainGrad(): this { this.retainsGrad = true; return this; }
  /** A tensor sharing the storage, cut from the graph. */
  detach(): Tensor { return this.viewAs(this.shape, this.strides, this.offset); }

  // ---- ops (see ./ops) -------------------------------------------------------------------------------------------------
  add(o: TensorLike) { return ops.add(this, o); }
  sub(o: TensorLike) { return ops.sub(this, o); }
  mul(o: TensorLike) { return ops.mul(this, o); }
  div(o: TensorLike) { return ops.div(this, o); }
  pow(o: TensorLike) { return ops.pow(this, o); }
  maximum(o: TensorLike) { return ops.maximum(this, o); }
  minimum(o: TensorLike) { return ops.minimum(this, o); }
  eq(o: TensorLike) { return ops.eq(this, o); }
  ne(o: TensorLike) { return ops.ne(this, o); }
  lt(o: TensorLike) { return ops.lt(this, o); }
  le(o: TensorLike) { return ops.le(this, o); }
  gt(o: TensorLike) { return ops.gt(this, o); }
  ge(o: TensorLike) { return ops.ge(this, o); }
  neg() { return ops.neg(this); }
  abs() { return ops.abs(this); }
  sign() { return ops.sign(this); }
  exp() { return ops.exp(this); }
  log() { return ops.log(this); }
  sqrt() { return ops.sqrt(this); }
  sin() { return ops.sin(this); }
  cos() { return ops.cos(this); }
  tanh() { return ops.tanh(this); }
  sigmoid() { return ops.sigmoid(this); }
  relu() { return ops.relu(this); }
  square() { return ops.square(this); }
  reciprocal() { return ops.reciprocal(this); }
  sum(axes?: number | number[], keepDim = false) { return ops.sum(this, axes, keepDim); }
  mean(axes?: number | number[], keepDim = false) { return ops.mean(this, axes, keepDim); }
  max(axes?: number | number[], keepDim = false) { return ops.max(this, axes, keepDim); }
  min(axes?: number | number[], keepDim = false) { return ops.min(this, axes, keepDim); }
  argmax(axis?: number, keepDim = false) { return ops.argmax(this, axis, keepDim); }
  argmin(axis?: number, keepDim = false) { return ops.argmin(this, axis, keepDim); }
  matmul(o: Tensor) { return ops.matmul(this, o); }
  softmax(axis = -1) { return ops.softmax(this, axis); }
  logSoftmax(axis = -1) { return ops.logSoftmax(this, axis); }
  reshape(...shape: number[] | [number[]]) { return ops.reshape(this, flatArgs(shape)); }
  /** As PyTorch's view: reshape without copying (an error for a non-contiguous tensor, where reshape would copy). */
  view(...shape: number[] | [number[]]) { return ops.view(this, flatArgs(shape)); }
  flatten(startDim = 0, endDim = -1) { return ops.flatten(this, startDim, endDim); }
  transpose(dim0 = -2, dim1 = -1) { return ops.transpose(this, dim0, dim1); }
  get T() { return ops.transpose(this, -2, -1); }
  permute(...dims: number[] | [number[]]) { return ops.permute(this, flatArgs(dims)); }
  expand(...shape: number[] | [number[]]) { return ops.expand(this, flatArgs(shape)); }
  squeeze(axis?: number) { return ops.squeeze(this, axis); }
  unsqueeze(axis: number) { return ops.unsqueeze(this, axis); }
  slice(axis: number, start: number, end?: number) { return ops.slice(this, axis, start, end); }
  narrow(axis: number, start: number, length: number) { return ops.slice(this, axis, start, start + length); }
  contiguous() { return ops.contiguous(this); }
  clone() { return ops.clone(this); }
  to(device: DeviceName) { return ops.to(this, device); }
  cast(dtype: DType) { return ops.cast(this, dtype); }
  where(cond: TensorLike, other: TensorLike) { return ops.where(cond, this, other); }
}

function flatArgs(a: number[] | [number[]]): number[] {
  return Array.isArray(a[0]) ? (a[0] as number[]) : (a as number[]);
}

export type NestedArray = number | NestedArray[];

function nest(flat: number[], shape: readonly number[]): NestedArray {
  if (shape.length === 0) return flat[0];
  const [d, ...rest] = shape;
  const step = sizeOf(rest);
  return Array.from({ length: d }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), rest));
}

function format(x: NestedArray, indent = 0): string {
  if (!Array.isArray(x)) return fmtNum(x);
  if (x.length === 0 || !Array.isArray(x[0])) return `[${(x as number[]).map(fmtNum).join(', ')}]`;
  const pad = ' '.repeat(indent + 1);
  return `[${x.map((r, i) => (i ? pad : '') + format(r, indent + 1)).join(',\n')}]`;
}

function fmtNum(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-4 || a >= 1e6) ? v.toExponential(4) : String(Number(v.toPrecision(5)));
}
