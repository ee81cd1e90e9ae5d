/**
 * One gemm on the wasm device, from operands described by packing callbacks to a result handed to a sink: matmul,
 * conv2d and both conv backward passes all come through here (./backend.ts, ./vision.ts), differing only in how they
 * pack A and B (strided views, im2col on the fly) and where C goes (bias and ReLU, NCHW, col2im). The packed panels
 * and the tile-padded C live in pooled scratch blocks of the heap, released before returning.
 */
import type { Storage, TypedArray } from '../backend.js';
import { type CallJob, callItems } from './batched.js';
import { type GemmJob, gemmItems } from './gemm.js';
import type { Heap } from './heap.js';
import { type Kernels, MR, nr } from './kernels.js';
import type { Threads } from './threads.js';

/**
 * Where the wasm device changes path, as measured on a 2-core x86-64 machine (bench/RESULTS.md). Tests set them to
 * force every path: `smallMatmul` 0 sends every float matmul through the SIMD kernel, `threadMinFlops` 0 through the
 * threads.
 */
export const wasmTuning = {
  /** below this many multiply-adds a matmul runs the CPU backend's loop: packing would cost more than it saves */
  smallMatmul: 4096,
  /** below this many flops a gemm stays on the main thread: waking the workers costs more than it saves */
  threadMinFlops: 1 << 19,
  /** below this many elements moved a batched im2col / col2im stays on the main thread */
  threadMinElements: 1 << 16,
};

export interface GemmCall {
  /** the op, for errors: 'matmul', 'conv2d', ... */
  op: string;
  f64: boolean;
  batch: number; m: number; n: number; k: number;
  /** one A (or B) for every batch entry: packed once */
  aShared: boolean; bShared: boolean;
  /** packs batch entry p's A (m × k) into MR-row panels at byte address `at` (panels k·MR apart) */
  packA(at: number, p: number): void;
  /** packs batch entry p's B (k × n) into NR-column panels at byte address `at` (panels k·NR apart) */
  packB?(at: number, p: number): void;
  /** or packs every entry's B at once (entry p at `at` + p·`each` bytes): a batched call the threads share */
  packBAll?(at: number, each: number): void;
  /**
   * Where C goes: `out`, the result itself (contiguous [batch, m, n] at byte address `c`, with the fused epilogue: a
   * bias per column, or per row with `biasRows`), or
   * else a scratch C that `sink` reads: batch entry p's element (i, j) at c[cAt + i·ldc + j].
   */
  out?: { c: number; bias: number; biasBatch: number; relu: boolean; biasRows?: boolean };
  sink?(c: TypedArray, cAt: number, ldc: number, p: number): void;
  /** or reads every entry's scratch C at once (entry p at byte address `c` + p·`each`), e.g. as a batched call */
  sinkAll?(c: number, ldc: number, each: number): void;
}

/**
 * Runs `fill` (gemms into `out`) and returns `out`; if it throws (a worker thread died mid-job), releases `out` first,
 * so a failed op leaves no storage behind.
 */
export function filled<S extends Storage>(be: { release(s: Storage): void }, out: S, fill: () => void): S {
  try {
    fill();
  } catch (e) {
    be.release(out);
    throw e;
  }
  return out;
}

interface Host { heap: Heap; kernels: Kernels; pool: Threads | null }

export class GemmRunner {
  constructor(private host: Host) {}

  /** A batched kernel call (./batched.ts) over `count` entries moving `elements` in all: on the threads when it pays. */
  batched(job: CallJob, count: number, elements: number, op: string): void {
    const { kernels, pool } = this.host;
    if (pool && count > 1 && elements >= wasmTuning.threadMinElements) pool.call(kernels, job, count, op);
    else callItems(kernels, job, 0, count);
  }

  run(call: GemmCall): void {
    const { f64, batch, m, n, k } = call;
    const { heap, kernels, pool } = this.host;
    const size = f64 ? 8 : 4, NR = nr(f64 ? 'f64' : 'f32');
    const mPanels = Math.ceil(m / MR), nPanels = Math.ceil(n / NR);
    const aEach = mPanels * MR * k, bEach = nPanels * NR * k;
    const ldc = call.out ? n : nPanels * NR, cEach = call.out ? m * n : mPanels * MR * ldc;
    const aCount = call.aShared ? 1 : batch, bCount = call.bShared ? 1 : batch;
    const aBlock = heap.acquire(aCount * aEach * size);
    const bBlock = heap.acquire(bCount * bEach * size);
    const cBlock = call.out ? null : heap.acquire(batch * cEach * size);
    const c = call.out ? call.out.c : cBlock!.ptr;
    try {
      for (let p = 0; p < aCount; p++) call.packA(aBlock.ptr + p * aEach * size, p);
      if (call.packBAll) call.packBAll(bBlock.ptr, bEach * size);
      else for (let p = 0; p < bCount; p++) call.packB!(bBlock.ptr + p * bEach * size, p);
      const job: GemmJob = {
        f64, aPack: aBlock.ptr, aBatch: call.aShared ? 0 : aEach * size, bPack: bBlock.ptr,
        bBatch: call.bShared ? 0 : bEach * size, c, cBatch: cEach * size, mPanels, nPanels, k, ldc: ldc * size, m, n,
        bias: call.out?.bias ?? 0, biasBatch: call.out?.biasBatch ?? 0, relu: call.out?.relu ?? false,
        biasRows: call.out?.biasRows ?? false,
      };
      const items = batch * mPanels;
      if (pool && items > 1 && 2 * batch * m * n * k >= wasmTuning.threadMinFlops) pool.gemm(kernels, job, items, call.op);
      else gemmItems(kernels, job, 0, items);
      const mem = f64 ? heap.f64 : heap.f32;
      if (call.sink) for (let p = 0; p < batch; p++) call.sink(mem, c / size + p * cEach, ldc, p);
      call.sinkAll?.(c, ldc, cEach * size);
    } finally {
      heap.release(aBlock.ptr, aBlock.cls);
      heap.release(bBlock.ptr, bBlock.cls);
      if (cBlock) heap.release(cBlock.ptr, cBlock.cls);
    }
  }
}
