/**
 * The WebGPU backend: turns the backend contract's ops into dispatches of the kernels in `../wgsl/`, recorded by the
 * runtime into one batch. Each op chooses its kernel variant here, where shapes are known.
 */
import type {
  AdamStep, Backend, BinaryOp, Conv2dGeom, DType, MatmulEpilogue, Pool2dGeom, ReduceOp, Storage, TypedArray, UnaryOp, View,
} from '../backend.js';
import { GpugradError } from '../../core/errors.js';
import { collapseDims, contiguousStrides, sizeOf } from '../../core/shape.js';
import { adamKernel } from '../wgsl/adam.js';
import { binaryKernel, binaryVec4Kernel, supportsBinary } from '../wgsl/binary.js';
import {
  type AccessMode, MAX_RANK, type Vec4Mode, elementwiseDispatches, elementwiseVariant, offsetUniform, stridesUniform, vec4Plan,
} from '../wgsl/common.js';
import type { KernelProgram, WgslType } from '../wgsl/program.js';
import { fillKernel } from '../wgsl/fill.js';
import { gatherBytesKernel } from '../wgsl/gather-bytes.js';
import { reduceKernel } from '../wgsl/reduce.js';
import { scatterCopyKernel } from '../wgsl/scatter-copy.js';
import { supportsUnary, unaryKernel, unaryVec4Kernel } from '../wgsl/unary.js';
import { whereKernel, whereVec4Kernel } from '../wgsl/where.js';
import { type DispatchHost, GpuStorage, gpuBuffer as buf } from './host.js';
import { Runtime } from './runtime.js';
import { dispatchMatmul } from './matmul.js';
import { toInt32 } from '../cpu/elementwise.js';
import { VisionKernels } from './vision.js';

const wgslType = (d: DType): WgslType => {
  if (d === 'float64') throw new GpugradError('webgpu: float64 is not available on WebGPU; use the cpu device for float64');
  return d === 'float32' ? 'f32' : 'i32';
};

export class WebGPUBackend implements Backend {
  readonly name = 'webgpu' as const;
  /** the vision ops' dispatch code (./vision.ts) */
  private vision: VisionKernels;
  /** what ./matmul.ts and ./vision.ts use of this backend */
  private host: DispatchHost;
  constructor(readonly runtime: Runtime) {
    this.host = {
      runtime, out: (n, d) => this.out(n, d), reduce: (...a) => this.reduce(...a), fill: (...a) => this.fill(...a),
      release: (st) => this.release(st),
    };
    this.vision = new VisionKernels(this.host);
  }

  describe() { return this.runtime.describe(); }
  supportsDType(d: DType) { return d !== 'float64'; }

  alloc(length: number, dtype: DType): Storage {
    wgslType(dtype);
    return new GpuStorage(this, this.runtime.storage.acquire(length * 4), length, dtype);
  }

  upload(data: TypedArray, dtype: DType): Storage {
    const s = this.alloc(data.length, dtype);
    const typed = dtype === 'int32'
      ? (data instanceof Int32Array ? data : Int32Array.from(data, toInt32))
      : (data instanceof Float32Array ? data : Float32Array.from(data));
    if (typed.length > 0) this.runtime.write(buf(s), typed);
    return s;
  }

  async read(s: Storage): Promise<TypedArray> {
    // a pending cross-entropy label check is read in the same submit, and throws if a label was out of range
    const [bytes] = await Promise.all([this.runtime.read(buf(s), s.length * 4), this.vision.checkStatus()]);
    return s.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  release(s: Storage): void {
    const g = s as GpuStorage;
    if (g.released) throw new GpugradError('internal: storage released twice');
    g.released = true;
    this.runtime.storage.release(g.buf);
  }

  flush() { this.runtime.flush(); }

  private out(length: number, dtype: DType): GpuStorage { return this.alloc(length, dtype) as GpuStorage; }

  /**
   * Dispatches an elementwise kernel over `shape` reading `views`: collapses dimensions, picks each operand's access
   * mode, fills the uniforms (shape, offsets, strides), and runs each element — or, with `makeVec4` and a shape the
   * vec4 variant can take (see Vec4Mode in wgsl/common.ts), each four elements. The last `outputViews` views are
   * written, not read (their buffer is `out`).
   */
  private elementwise(make: (modes: AccessMode[]) => KernelProgram, shape: readonly number[], views: readonly View[],
    out: GpuStorage, outputViews = 0, makeVec4?: (modes: Vec4Mode[]) => KernelProgram): void {
    const n = sizeOf(shape);
    if (n === 0) return;
    const c = collapseDims(shape, views.map((v) => v.strides));
    if (c.shape.length > MAX_RANK) {
      throw new GpugradError(`webgpu: a view of rank ${c.shape.length} after merging dimensions exceeds ${MAX_RANK}; call .contiguous() first`);
    }
    const offsets = views.map((v) => v.offset);
    const vec = makeVec4 && elementwiseVariant() !== 'scalar' ? vec4Plan(c.shape, c.strides, offsets) : null;
    const [count, dims, strides, offs] = vec ? [n / 4, vec.shape, vec.strides, vec.offsets] : [n, c.shape, c.strides, offsets];
    const uniforms: Record<string, number | readonly number[]> = { n: count, shape: dims };
    views.forEach((_, j) => {
      uniforms[offsetUniform[j]] = offs[j];
      uniforms[stridesUniform[j]] = strides[j];
    });
    const inputs = views.slice(0, views.length - outputViews).map((v) => buf(v.storage));
    let spec: KernelProgram;
    if (vec) {
      spec = makeVec4!(vec.modes);
      elementwiseDispatches.vec4++;
    } else {
      // an input laid out like the output reads at offset + idx ('c') even when another input needs coordinates
      const rowMajor = contiguousStrides(c.shape);
      const modes = c.strides.map((s): AccessMode =>
        s.every((x) => x === 0) ? 's' : s.every((x, d) => x === rowMajor[d] || c.shape[d] === 1) ? 'c' : `g${c.shape.length}`);
      spec = make(modes);
      elementwiseDispatches.scalar++;
    }
    this.runtime.dispatch(spec, [...inputs, out.buf], uniforms, count);
  }

  fill(length: number, value: number, dtype: DType): Storage {
    const out = this.out(length, dtype);
    if (length === 0) return out;
    const bits = new Uint32Array(dtype === 'int32' ? new Int32Array([value]).buffer : new Float32Array([value]).buffer)[0];
    this.runtime.dispatch(fillKernel(wgslType(dtype)), [out.buf], { n: length, bits }, length);
    return out;
  }

  copy(x: View, dtype: DType = x.storage.dtype): Storage {
    const out = this.out(sizeOf(x.shape), dtype);
    const tin = wgslType(x.storage.dtype), tout = wgslType(dtype);
    this.elementwise(([m]) => unaryKernel('identity', tin, tout, m), x.shape, [x], out, 0,
      ([m]) => unaryVec4Kernel('identity', tin, tout, m));
    return out;
  }

  gatherBytes(table: Storage, rows: Storage, start: number, count: number, rowLen: number, lut: Storage | null): Storage {
    const n = count * rowLen;
    const out = this.out(n, lut ? 'float32' : 'int32');
    if (n === 0) return out;
    const inputs = lut ? [buf(table), buf(rows), buf(lut)] : [buf(table), buf(rows)];
    const byWord = rowLen % 4 === 0; // see the kernel's variants
    const [steps, stride] = byWord ? [n / 4, rowLen / 4] : [n, rowLen];
    this.runtime.dispatch(gatherBytesKernel(lut ? 'f32' : 'i32', byWord ? 'word' : 'byte'), [...inputs, out.buf],
      { n: steps, row: stride, start }, steps);
    return out;
  }

  copyInto(src: View, dst: View): void {
    const t = wgslType(src.storage.dtype);
    const out = dst.storage as GpuStorage;
    // the destination is operand 1 (its offset and strides); its buffer is the output binding
    this.elementwise(([ms, md]) => scatterCopyKernel(t, ms, md), src.shape, [src, dst], out, 1);
  }

  unary(op: UnaryOp, x: View): Storage {
    const t = wgslType(x.storage.dtype);
    if (!supportsUnary(op, t)) throw new GpugradError(`${op}: not defined for ${x.storage.dtype} tensors; convert to float32 first`);
    const out = this.out(sizeOf(x.shape), x.storage.dtype);
    this.elementwise(([m]) => unaryKernel(op, t, t, m), x.shape, [x], out, 0,
      ([m]) => unaryVec4Kernel(op, t, t, m));
    return out;
  }

  binary(op: BinaryOp, a: View, b: View, outShape: readonly number[]): Storage {
    const t = wgslType(a.storage.dtype);
    if (!supportsBinary(op, t)) throw new GpugradError(`${op}: not defined for ${a.storage.dtype} tensors; convert to float32 first`);
    const out = this.out(sizeOf(outShape), a.storage.dtype);
    this.elementwise(([ma, mb]) => binaryKernel(op, t, ma, mb), outShape, [a, b], out, 0,
      ([ma, mb]) => binaryVec4Kernel(op, t, ma, mb));
    return out;
  }

  where(cond: View, a: View, b: View, outShape: readonly number[]): Storage {
    const tc = wgslType(cond.storage.dtype), t = wgslType(a.storage.dtype);
    const out = this.out(sizeOf(outShape), a.storage.dtype);
    this.elementwise((m) => whereKernel(tc, t, m.join(',')), outShape, [cond, a, b], out, 0,
      (m) => whereVec4Kernel(tc, t, m.join(',')));
    return out;
  }

  reduce(op: ReduceOp, x: Storage, outer: number, reduce: number, inner: number): Storage {
    const isArg = op === 'argmax' || op === 'argmin';
    const outputs = outer * inner;
    const out = this.out(outputs, isArg ? 'int32' : x.dtype);
    if (outputs === 0) return out;
    // one invocation per output as soon as there are a few workgroups' worth (SwiftShader runs 16 tasks; barriers cost)
    const variant = outputs >= 256 || reduce <= 64 ? 'thread' : 'group';
    this.runtime.dispatch(reduceKernel(op, wgslType(x.dtype), variant), [buf(x), out.buf], { outputs, R: reduce, inner }, outputs);
    return out;
  }

  matmul(a: View, b: View, batch: number, m: number, k: number, n: number, epilogue?: MatmulEpilogue): Storage {
    return dispatchMatmul(this.host, a, b, batch, m, k, n, epilogue);
  }

  adam(param: Storage, grad: Storage, m: Storage, v: Storage, s: AdamStep): void {
    const n = param.length;
    if (n === 0) return;
    this.runtime.dispatch(adamKernel(), [buf(grad), buf(param), buf(m), buf(v)],
      { n, lr: s.lr, beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay, bc1: s.bc1, bc2: s.bc2 }, n);
  }

  // ---- vision ops: see ./vision.ts ----
  conv2d(x: Storage, w: Storage, bias: Storage | null, g: Conv2dGeom) { return this.vision.conv2d(x, w, bias, g); }
  conv2dBackwardInput(gy: Storage, w: Storage, g: Conv2dGeom) { return this.vision.conv2dBackwardInput(gy, w, g); }
  conv2dBackwardWeight(x: Storage, gy: Storage, g: Conv2dGeom) { return this.vision.conv2dBackwardWeight(x, gy, g); }
  maxPool2d(x: Storage, g: Pool2dGeom) { return this.vision.maxPool2d(x, g); }
  maxPool2dBackward(gy: Storage, indices: Storage, g: Pool2dGeom) { return this.vision.maxPool2dBackward(gy, indices, g); }
  poolGather(x: Storage, indices: Storage, g: Pool2dGeom) { return this.vision.poolGather(x, indices, g); }
  dropout(x: Storage, p: number, seed: readonly [number, number]) { return this.vision.dropout(x, p, seed); }
  crossEntropy(logits: Storage, labels: Storage, batch: number, classes: number) {
    return this.vision.crossEntropy(logits, labels, batch, classes);
  }
  crossEntropyBackward(logits: Storage, labels: Storage, gradOut: Storage, batch: number, classes: number) {
    return this.vision.crossEntropyBackward(logits, labels, gradOut, batch, classes);
  }
  countCorrect(logits: Storage, labels: Storage, batch: number, classes: number) {
    return this.vision.countCorrect(logits, labels, batch, classes);
  }
}
