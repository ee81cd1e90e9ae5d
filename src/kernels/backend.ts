/**
 * The backend contract: everything the tensor floor asks of a device. Three implementations: `cpu/` (the readable
 * reference, also float64), `webgpu/` (WGSL kernels) and `wasm/` (WebAssembly SIMD kernels on worker threads). A backend never sees autograd, only storages and views.
 *
 * Conventions
 * - A `Storage` is a flat allocation of `length` elements of one dtype. The tensor floor ref-counts storages and calls
 *   `release` exactly once when the last tensor using one is disposed.
 * - A `View` reads a storage through shape/strides/offset (in elements). Broadcast dimensions have stride 0.
 * - Every op returns a fresh, contiguous Storage. Ops never modify their inputs, except the optimizer updates, which
 *   say so.
 */
import { check } from '../core/errors.js';

export type DType = 'float32' | 'int32' | 'float64';
const DTYPES: readonly DType[] = ['float32', 'int32', 'float64'];
/**
 * A dtype name from user code (a string literal, possibly mistyped). Beside DType, not in core/shape.ts: core (floor 0)
 * does not know the kernels' dtypes.
 */
export function checkDType(op: string, dtype: unknown): asserts dtype is DType {
  check(DTYPES.includes(dtype as DType), op, () => `dtype ${JSON.stringify(dtype)} is not a dtype (use one of ${DTYPES.join(', ')})`);
}
export type TypedArray = Float32Array | Int32Array | Float64Array;
export type DeviceName = 'cpu' | 'webgpu' | 'wasm';

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

/** What a matmul may do to its result before writing it: + bias[n] on every row, then ReLU. */
export interface MatmulEpilogue {
  bias?: Storage | null;
  /** elements between the biases of consecutive batch entries (0, the default: one bias [n] for every batch entry) */
  biasBatchStride?: number;
  relu?: boolean;
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
  /**
   * Batched matmul: a [batch, m, k] · b [batch, k, n] → contiguous [batch, m, n]; any strides (0 for a broadcast batch).
   * An optional epilogue adds bias [n] (contiguous; batch entry p reads it at p·biasBatchStride) to every row, then
   * applies ReLU.
   */
  matmul(a: View, b: View, batch: number, m: number, k: number, n: number, epilogue?: MatmulEpilogue): Storage;

  /** In-place Adam update of param, m and v from grad (all contiguous, same length). */
  adam(param: Storage, grad: Storage, m: Storage, v: Storage, step: AdamStep): void;

  // ---- vision (src/kernels/cpu/vision.ts is the reference; storages are contiguous, read from element 0) ----------
  /** out [N,O,outH,outW] = conv(x [N,C,H,W], w [O,C/groups,kH,kW]) + bias [O] (bias may be null). */
  conv2d(x: Storage, w: Storage, bias: Storage | null, g: Conv2dGeom): Storage;
  /** dx [N,C,H,W] from gradOut [N,O,outH,outW] and w (gather form: each input element sums what it touched). */
  conv2dBackwardInput(gradOut: Storage, w: Storage, g: Conv2dGeom): Storage;
  /** dw [O,C/groups,kH,kW] from x and gradOut (a GEMM whose K is batch × output pixels). */
  conv2dBackwardWeight(x: Storage, gradOut: Storage, g: Conv2dGeom): Storage;
  /** Max pooling [N,C,H,W] → [N,C,outH,outW], with the int32 index (h·W + w in its plane) of each maximum. */
  maxPool2d(x: Storage, g: Pool2dGeom): { out: Storage; indices: Storage };
  /** dx [N,C,H,W]: each input element sums the output gradients whose index chose it. */
  maxPool2dBackward(gradOut: Storage, indices: Storage, g: Pool2dGeom): Storage;
  /** out [N,C,outH,outW] = x [N,C,H,W] at the indices (the adjoint of maxPool2dBackward). */
  poolGather(x: Storage, indices: Storage, g: Pool2dGeom): Storage;
  /** Inverted dropout: element i is kept (and scaled by 1/(1-p)) when dropoutHash(i, seed) ≥ p·2³². */
  dropout(x: Storage, p: number, seed: readonly [number, number]): Storage;
  /** Mean over the batch of −log softmax(logits [B,C])[label] → [1]; labels are int32 [B]. */
  crossEntropy(logits: Storage, labels: Storage, batch: number, classes: number): Storage;
  /** (softmax(logits) − onehot(labels)) · gradOut[0] / B → [B,C]. */
  crossEntropyBackward(logits: Storage, labels: Storage, gradOut: Storage, batch: number, classes: number): Storage;
  /** int32 [1]: how many rows have argmax(logits) (the first maximum) equal to their label. */
  countCorrect(logits: Storage, labels: Storage, batch: number, classes: number): Storage;
}
