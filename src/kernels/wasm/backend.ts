/**
 * The wasm device: storages live in one WebAssembly memory (./heap.ts), matmul and conv run the SIMD128 micro-kernel
 * of ./kernels.ts split over worker threads (./threads.ts), Adam and the hot elementwise cases are SIMD kernels
 * (./elementwise-kernels.ts), max-pool is ./pool.ts, and every other op runs the CPU backend's loops in place over
 * typed-array views of the memory (no copy in; ops whose reference allocates its own result copy it in once). So the device is complete for every op and dtype from the start, bit-for-bit the
 * reference where it reuses it, and fast where a training step spends its time (see bench/RESULTS.md).
 */
import type {
  AdamStep, Backend, BinaryOp, Conv2dGeom, DType, MatmulEpilogue, Pool2dGeom, ReduceOp, Storage, TypedArray, UnaryOp, View,
} from '../backend.js';
import { CpuBackend, CpuStorage } from '../cpu/backend.js';
import { binaryFast, copyFast, copyIntoFast, matmulFast, reduceFast, unaryFast, whereFast } from '../cpu/fast.js';
import { gatherBytes } from '../cpu/gather.js';
import { GpugradError } from '../../core/errors.js';
import type { Platform } from '../../core/platform.js';
import { isContiguous, sizeOf } from '../../core/shape.js';
import { SIMD_BINARY, SIMD_UNARY } from './elementwise-kernels.js';
import { relaxedSimdSupported } from './emit.js';
import { Heap, MAX_PAGES } from './heap.js';
import { type Binary, type Kernels, kernelModule, MR, nr, type Unary, type Where } from './kernels.js';
import { maxPoolBackwardInto, maxPoolInto } from './pool.js';
import { filled, GemmRunner, wasmTuning } from './run-gemm.js';
import { Threads } from './threads.js';
import { type WasmModule, wasmApi } from './wasm-api.js';
import * as conv from './vision.js';

export class WasmStorage implements Storage {
  released = false;
  constructor(readonly backend: WasmBackend, readonly ptr: number, readonly cls: number, readonly length: number,
    readonly dtype: DType) {}
}

const BYTES: Record<DType, number> = { float32: 4, int32: 4, float64: 8 };
/** The SIMD lane type of a float dtype (null: int32, which stays on the CPU loops). */
const lanes = (d: DType) => (d === 'float32' ? 'f32' : d === 'float64' ? 'f64' : null);
/** How a SIMD elementwise kernel can read a view: 0 contiguous, 1 one broadcast element, −1 it cannot. */
function layout(v: View): number {
  if (v.strides.every((s) => s === 0)) return 1;
  return isContiguous(v.shape, v.strides) ? 0 : -1;
}
/** A storage's first element, as an index into the memory's typed array of its dtype. */
const el = (s: Storage) => (s as WasmStorage).ptr / BYTES[s.dtype];
/** A storage's byte address. */
const ptrOf = (s: Storage) => (s as WasmStorage).ptr;
/** A view's first element, as a byte address. */
const at = (v: View) => (v.storage as WasmStorage).ptr + v.offset * BYTES[v.storage.dtype];

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly heap: Heap;
  readonly kernels: Kernels;
  readonly module: WasmModule;
  readonly gemm: GemmRunner;
  private threads: Threads | null = null;
  private cpu = new CpuBackend();

  /** whether the gemm uses relaxed SIMD's fused multiply-add */
  readonly fma: boolean;

  /** `fma`: use relaxed SIMD's madd in the gemm (default: where the engine has it, see ./emit.ts). */
  constructor(options: { fma?: boolean } = {}) {
    this.heap = new Heap(typeof SharedArrayBuffer !== 'undefined');
    const fma = options.fma ?? relaxedSimdSupported();
    if (fma && !relaxedSimdSupported()) {
      throw new GpugradError('wasm: relaxed SIMD (FMA) was asked for, but this JavaScript engine does not compile it; ' +
        'use Node ≥ 22 (Node 20: node --experimental-wasm-relaxed-simd) or a browser with it (Chrome ≥ 114), or leave it off');
    }
    this.fma = fma;
    this.module = new wasmApi.Module(kernelModule(this.heap.shared, MAX_PAGES, fma));
    const instance = new wasmApi.Instance(this.module, { env: { memory: this.heap.memory } });
    this.kernels = instance.exports as unknown as Kernels;
    this.gemm = new GemmRunner(this);
  }

  /** Starts `count − 1` worker threads (the main thread takes the first part of each job); resolves when ready. */
  async startThreads(count: number, startWorker: Platform['startWorker']): Promise<void> {
    if (this.threads || count < 2 || !this.heap.shared) return;
    this.threads = await Threads.start(this.module, this.heap.memory, count - 1, startWorker);
  }
  get threadCount(): number { return this.threads?.parts ?? 1; }
  /** Uses `n` of the started threads (benchmarks compare thread counts in one process). */
  useThreads(n: number): void { this.threads?.use(n); }
  /** The thread pool, for jobs worth splitting (null: single-threaded). */
  get pool(): Threads | null { return this.threads; }
  shutdown(): void { this.threads?.close(); this.threads = null; }

  describe() {
    const t = this.threadCount;
    return `wasm: WebAssembly SIMD128${this.fma ? ' + relaxed FMA' : ''}, ${t} thread${t === 1 ? '' : 's'}${this.heap.shared ? '' : ' (no SharedArrayBuffer)'}`;
  }
  supportsDType(_dtype: DType) { return true; }

  // ---- memory ----------------------------------------------------------------------------------------------------
  alloc(length: number, dtype: DType): WasmStorage {
    const { ptr, cls } = this.heap.acquire(length * BYTES[dtype]);
    return new WasmStorage(this, ptr, cls, length, dtype);
  }
  release(s: Storage): void {
    const w = s as WasmStorage;
    if (w.released) throw new GpugradError('internal: wasm storage released twice');
    w.released = true;
    this.heap.release(w.ptr, w.cls);
  }
  /** The memory as a typed array of `dtype` (take it after allocating: growth replaces it). */
  whole(dtype: DType): TypedArray {
    return dtype === 'float32' ? this.heap.f32 : dtype === 'int32' ? this.heap.i32 : this.heap.f64;
  }
  /** A storage's elements, in place. */
  data(s: Storage): TypedArray {
    const w = s as WasmStorage;
    const at = w.ptr / BYTES[w.dtype];
    return this.whole(w.dtype).subarray(at, at + w.length);
  }
  upload(src: TypedArray, dtype: DType): Storage {
    const s = this.alloc(src.length, dtype);
    this.data(s).set(src);
    return s;
  }
  async read(s: Storage): Promise<TypedArray> { return this.data(s).slice(); }
  flush() {}
  /** A storage holding `arr` (the result of a reference op that allocates its own). */
  private adopt(arr: TypedArray): Storage {
    return this.upload(arr, arr instanceof Int32Array ? 'int32' : arr instanceof Float64Array ? 'float64' : 'float32');
  }
  /** A CPU storage over the same bytes (no copy), for reference ops that take storages. */
  private asCpu(s: Storage): CpuStorage { return new CpuStorage(this.cpu, this.data(s), s.dtype); }

  fill(length: number, value: number, dtype: DType): Storage {
    const s = this.alloc(length, dtype);
    this.data(s).fill(value);
    return s;
  }

  // ---- elementwise and reductions: the CPU backend's loops, in place ---------------------------------------------
  copy(x: View, dtype: DType = x.storage.dtype): Storage {
    const out = this.alloc(sizeOf(x.shape), dtype);
    copyFast(this.data(out), this.data(x.storage), x, dtype === 'int32' && x.storage.dtype !== 'int32');
    return out;
  }
  copyInto(src: View, dst: View): void { copyIntoFast(this.data(src.storage), src, this.data(dst.storage), dst); }
  gatherBytes(table: Storage, rows: Storage, start: number, count: number, rowLen: number, lut: Storage | null): Storage {
    return this.adopt(gatherBytes(this.data(table) as Int32Array, this.data(rows) as Int32Array, start, count, rowLen,
      lut ? this.data(lut) as Float32Array : null));
  }
  unary(op: UnaryOp, x: View): Storage {
    const out = this.alloc(sizeOf(x.shape), x.storage.dtype);
    const t = lanes(x.storage.dtype);
    if (t && SIMD_UNARY.includes(op) && layout(x) === 0) (this.kernels[`${op}_${t}`] as Unary)(at(x), out.ptr, out.length);
    else unaryFast(op, this.data(out), this.data(x.storage), x);
    return out;
  }
  binary(op: BinaryOp, a: View, b: View, outShape: readonly number[]): Storage {
    const out = this.alloc(sizeOf(outShape), a.storage.dtype);
    const t = lanes(a.storage.dtype), la = layout(a), lb = layout(b);
    if (t && SIMD_BINARY[op] && la >= 0 && lb >= 0 && la + lb < 2) {
      (this.kernels[`${op}_${t}`] as Binary)(at(a), at(b), out.ptr, out.length, la, lb);
    } else {
      binaryFast(op, a.storage.dtype === 'int32', this.data(out), this.data(a.storage), a, this.data(b.storage), b, outShape);
    }
    return out;
  }
  where(cond: View, a: View, b: View, outShape: readonly number[]): Storage {
    const out = this.alloc(sizeOf(outShape), a.storage.dtype);
    const t = lanes(a.storage.dtype), la = layout(a), lb = layout(b);
    if (t && cond.storage.dtype === a.storage.dtype && layout(cond) === 0 && la >= 0 && lb >= 0) {
      (this.kernels[`where_${t}`] as Where)(at(cond), at(a), at(b), out.ptr, out.length, la, lb);
    } else {
      whereFast(this.data(out), this.data(cond.storage), cond, this.data(a.storage), a, this.data(b.storage), b, outShape);
    }
    return out;
  }
  reduce(op: ReduceOp, x: Storage, outer: number, reduce: number, inner: number): Storage {
    const out = this.alloc(outer * inner, op === 'argmax' || op === 'argmin' ? 'int32' : x.dtype);
    reduceFast(op, this.data(out), this.data(x), outer, reduce, inner);
    return out;
  }

  // ---- matmul: packed panels and the SIMD micro-kernel -------------------------------------------------------------
  matmul(a: View, b: View, batch: number, m: number, k: number, n: number, epi: MatmulEpilogue = {}): Storage {
    const dtype = a.storage.dtype;
    const out = this.alloc(batch * m * n, dtype);
    if (dtype === 'int32' || k === 0 || batch * m * n * k < wasmTuning.smallMatmul) {
      const bias = epi.bias ? this.data(epi.bias) : null;
      matmulFast(this.data(out), this.data(a.storage), a, this.data(b.storage), b, batch, m, k, n, bias,
        epi.biasBatchStride ?? 0, epi.relu === true);
      return out;
    }
    const f64 = dtype === 'float64';
    const [sab, sam, sak] = a.strides, [sbb, sbk, sbn] = b.strides;
    const NR = nr(f64 ? 'f64' : 'f32');
    const size = BYTES[dtype];
    const aAt = (a.storage as WasmStorage).ptr + a.offset * size, bAt = (b.storage as WasmStorage).ptr + b.offset * size;
    const k2 = this.kernels, packA = f64 ? k2.packA_f64 : k2.packA_f32, packB = f64 ? k2.packB_f64 : k2.packB_f32;
    return filled(this, out, () => this.gemm.run({
      op: 'matmul', f64, batch, m, n, k,
      aShared: sab === 0 || batch === 1, bShared: sbb === 0 || batch === 1,
      packA: (at, p) => packA(aAt + p * sab * size, at, sam, sak, m, k, k * MR),
      packB: (at, p) => packB(bAt + p * sbb * size, at, sbk, sbn, k, n, k * NR),
      out: { c: out.ptr, bias: epi.bias ? (epi.bias as WasmStorage).ptr : 0, biasBatch: (epi.biasBatchStride ?? 0) * size, relu: epi.relu === true },
    }));
  }

  adam(param: Storage, grad: Storage, m: Storage, v: Storage, s: AdamStep): void {
    if (param.dtype === 'int32') { this.cpu.adam(this.asCpu(param), this.asCpu(grad), this.asCpu(m), this.asCpu(v), s); return; }
    const run = param.dtype === 'float64' ? this.kernels.adam_f64 : this.kernels.adam_f32;
    const p = param as WasmStorage;
    run(p.ptr, (grad as WasmStorage).ptr, (m as WasmStorage).ptr, (v as WasmStorage).ptr, p.length,
      s.lr, s.beta1, s.beta2, s.eps, s.weightDecay, s.bc1, s.bc2);
  }

  // ---- vision: conv through the gemm (./vision.ts), the rest the reference's loops ----------------------------------
  conv2d(x: Storage, w: Storage, bias: Storage | null, g: Conv2dGeom): Storage {
    return conv.conv2d(this, x, w, bias, g) ?? this.fromCpu(this.cpu.conv2d(this.asCpu(x), this.asCpu(w), bias && this.asCpu(bias), g));
  }
  conv2dBackwardInput(gradOut: Storage, w: Storage, g: Conv2dGeom): Storage {
    return conv.conv2dBackwardInput(this, gradOut, w, g) ?? this.fromCpu(this.cpu.conv2dBackwardInput(this.asCpu(gradOut), this.asCpu(w), g));
  }
  conv2dBackwardWeight(x: Storage, gradOut: Storage, g: Conv2dGeom): Storage {
    return conv.conv2dBackwardWeight(this, x, gradOut, g) ?? this.fromCpu(this.cpu.conv2dBackwardWeight(this.asCpu(x), this.asCpu(gradOut), g));
  }
  maxPool2d(x: Storage, g: Pool2dGeom): { out: Storage; indices: Storage } {
    const n = g.batch * g.channels * g.outH * g.outW;
    const out = this.alloc(n, x.dtype), indices = this.alloc(n, 'int32');
    const t = lanes(x.dtype);
    if (t) {
      this.kernels[`maxpool_${t}`](ptrOf(x), ptrOf(out), ptrOf(indices), g.batch * g.channels, g.inH, g.inW, g.outH, g.outW,
        g.kH, g.kW, g.strideH, g.strideW, g.padH, g.padW);
    } else {
      maxPoolInto(this.whole(x.dtype), this.heap.i32, el(x), el(out), el(indices), g);
    }
    return { out, indices };
  }
  maxPool2dBackward(gradOut: Storage, indices: Storage, g: Pool2dGeom): Storage {
    const dx = this.fill(g.batch * g.channels * g.inH * g.inW, 0, gradOut.dtype);
    const t = lanes(gradOut.dtype);
    if (t) {
      this.kernels[`maxpoolBack_${t}`](ptrOf(gradOut), ptrOf(indices), ptrOf(dx), g.batch * g.channels, g.outH * g.outW, g.inH * g.inW);
    } else {
      maxPoolBackwardInto(this.whole(gradOut.dtype), this.heap.i32, el(gradOut), el(indices), el(dx), g);
    }
    return dx;
  }
  poolGather(x: Storage, indices: Storage, g: Pool2dGeom): Storage {
    return this.fromCpu(this.cpu.poolGather(this.asCpu(x), this.asCpu(indices), g));
  }
  dropout(x: Storage, p: number, seed: readonly [number, number]): Storage {
    return this.fromCpu(this.cpu.dropout(this.asCpu(x), p, seed));
  }
  crossEntropy(logits: Storage, labels: Storage, batch: number, classes: number): Storage {
    return this.fromCpu(this.cpu.crossEntropy(this.asCpu(logits), this.asCpu(labels), batch, classes));
  }
  crossEntropyBackward(logits: Storage, labels: Storage, gradOut: Storage, batch: number, classes: number): Storage {
    return this.fromCpu(this.cpu.crossEntropyBackward(this.asCpu(logits), this.asCpu(labels), this.asCpu(gradOut), batch, classes));
  }
  countCorrect(logits: Storage, labels: Storage, batch: number, classes: number): Storage {
    return this.fromCpu(this.cpu.countCorrect(this.asCpu(logits), this.asCpu(labels), batch, classes));
  }
  private fromCpu(s: Storage): Storage { return this.adopt((s as CpuStorage).data); }
}
