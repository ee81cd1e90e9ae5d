/**
 * The backend contract: everything the tensor floor asks of a device. Two implementations: `cpu/` (the readable
 * reference, also float64) and `webgpu/` (WGSL kernels). A backend never sees autograd, only storages and views.
 *
 * Conventions
 * - A `Storage` is a flat allocation of `length` elements of one dtype. The tensor floor ref-counts storages and calls
 *   `release` exactly once when the last tensor using one is disposed.
 * - A `View` reads a storage through shape/strides/offset (in elements). Broadcast dimensions have stride 0.
 * - Every op returns a fresh, contiguous Storage. Ops never modify their inputs, except the optimizer updates, which
 *   say so.
 */
export type DType = 'float32' | 'int32' | 'float64';
export type TypedArray = Float32Array | Int32Array | Float64Array;
export type DeviceName = 'cpu' | 'webgpu';

export interface Storage {
  readonly backend: Backend;
  readonly length: number;
  readonly dtype: DType;
}

export interface View {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

export type UnaryOp =
  | 'neg' | 'abs' | 'sign' | 'exp' | 'log' | 'sqrt' | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'relu'
  | 'step' // x > 0 ? 1 : 0 (the derivative of relu)
  | 'reciprocal' | 'square' | 'floor' | 'identity';

export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'; // comparisons give 1 or 0 in the output dtype

export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

/** Adam's hyper-parameters for one step (bias corrections already folded in by the caller). */
export interface AdamStep {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  /** 1 - beta1^t and 1 - beta2^t */
  bc1: number; bc2: number;
}

export interface Conv2dGeom {
  batch: number; inC: number; inH: number; inW: number;
  outC: number; kH: number; kW: number; outH: number; outW: number;
  strideH: number; strideW: number; padH: number; padW: number; dilationH: number; dilationW: number; groups: number;
}

export interface Pool2dGeom {
  batch: number; channels: number; inH: number; inW: number; outH: number; outW: number;
  kH: number; kW: number; strideH: number; strideW: number; padH: number; padW: number;
}

export interface Backend {
  readonly name: DeviceName;
  /** Human-readable description of the device (the adapter's vendor/architecture/description on WebGPU). */
  describe(): string;
  supportsDType(dtype: DType): boolean;

  alloc(length: number, dtype: DType): Storage;
  upload(data: TypedArray, dtype: DType): Storage;
  read(storage: Storage): Promise<TypedArray>;
  release(storage: Storage): void;
  /** Submits any recorded work (WebGPU); a no-op on CPU. */
  flush(): void;

  fill(length: number, value: number, dtype: DType): Storage;
  /** Strided gather into a contiguous storage, converting dtype when asked. */
  copy(x: View, dtype?: DType): Storage;
  /** Writes the elements of `src` into `dst` (a strided view of an existing storage, same shape): in place. */
  copyInto(src: View, dst: View): void;
  /**
   * Batch assembly from a dataset kept on the device as bytes (src/data/): `table` is an int32 storage whose words
   * each pack 4 bytes (little-endian) of a [rows, rowLen] byte table; `rows` holds int32 row numbers. Output element
   * b * rowLen + j (b < count) is byte j of row rows[start + b], mapped through `lut` (256 float32 values) into
   * float32, or kept as an int32 when `lut` is null (labels). Reference: cpu/gather.ts.
   */
  gatherBytes(table: Storage, rows: Storage, start: number, count: number, rowLen: number, lut: Storage | null): Storage;
  unary(op: UnaryOp, x: View): Storage;
  /** `a` and `b` are already broadcast to `outShape` (stride 0 where broadcast). Comparisons keep the input dtype. */
  binary(op: BinaryOp, a: View, b: View, outShape: readonly number[]): Storage;
  where(cond: View, a: View, b: View, outShape: readonly number[]): Storage;
  /**
   * Reduces the middle axis of a contiguous [outer, reduce, inner] layout into [outer, inner].
   * argmax/argmin give int32 indices (the first extreme wins, as PyTorch).
   */
  reduce(op: ReduceOp, x: Storage, outer: number, reduce: number, inner: number): Storage;
  /** Batched matmul: a [batch, m, k] · b [batch, k, n] → contiguous [batch, m, n]; any strides (0 for a broadcast batch). */
  matmul(a: View, b: View, batch: number, m: number, k: number, n: number): Storage;

  /** In-place Adam update of param, m and v from grad (all contiguous, same length). */
  adam(param: Storage, grad: Storage, m: Storage, v: Storage, step: AdamStep): void;
}
