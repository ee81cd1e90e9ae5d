/**
 * Matmul on the wasm device, around the SIMD micro-kernel of ./kernels.ts:
 *
 * 1. Pack (main thread, wasm kernels of ./pack-kernels.ts): A into MR-row panels [k][MR] and B into NR-column panels
 *    [k][NR], zero-padded, from any strides — so transposed operands, broadcast batches and conv's im2col all reach the kernel in the one layout it
 *    reads with unit stride. A operand with batch stride 0 is packed once for the whole batch.
 * 2. Multiply (`gemmItems`, main thread and workers): a work item is one A panel of one batch entry; the threads split
 *    the items. For each item, k is cut into KC-long blocks and n into NC-wide blocks, so the A panel (KC × MR) stays in
 *    L1 while the kernel streams the B block (KC × NC, ≤ 128 KiB) from L2, and tiles accumulate across k blocks.
 * 3. The result lands in C, padded to whole tiles (the output itself when the shape is a multiple of the tile), and
 *    the epilogue (bias, ReLU) is applied while copying the valid part out.
 */
import type { Float } from './emit.js';
import type { Kernels } from './kernels.js';
import { MR, nr } from './tile.js';

export const KC = 256;
/** B block width in panels: KC × NC × 4 bytes = 128 KiB of float32 (64 KiB... of float64 panels, half as wide). */
const NC_PANELS = 16;

/** A gemm in packed form; addresses and strides in bytes. Serialised into an Int32Array for the worker threads. */
export interface GemmJob {
  f64: boolean;
  aPack: number; aBatch: number; bPack: number; bBatch: number; c: number; cBatch: number;
  mPanels: number; nPanels: number; k: number; ldc: number; acc: boolean;
}

export const GEMM_WORDS = 12;
export function encodeGemm(j: GemmJob, out: Int32Array, at: number): void {
  out.set([j.f64 ? 1 : 0, j.aPack, j.aBatch, j.bPack, j.bBatch, j.c, j.cBatch, j.mPanels, j.nPanels, j.k, j.ldc,
    j.acc ? 1 : 0], at);
}
export function decodeGemm(w: Int32Array, at: number): GemmJob {
  return {
    f64: w[at] === 1, aPack: w[at + 1], aBatch: w[at + 2], bPack: w[at + 3], bBatch: w[at + 4], c: w[at + 5],
    cBatch: w[at + 6], mPanels: w[at + 7], nPanels: w[at + 8], k: w[at + 9], ldc: w[at + 10], acc: w[at + 11] === 1,
  };
}

/** Runs work items [from, to) of a job: item = batchEntry · mPanels + A panel. */
export function gemmItems(kern: Kernels, j: GemmJob, from: number, to: number): void {
  const t: Float = j.f64 ? 'f64' : 'f32';
  const size = j.f64 ? 8 : 4, NR = nr(t);
  const run = j.f64 ? kern.gemm_f64 : kern.gemm_f32;
  const aPanelBytes = j.k * MR * size, bPanelBytes = j.k * NR * size;
  for (let item = from; item < to; item++) {
    const p = Math.floor(item / j.mPanels), i = item - p * j.mPanels;
    const a = j.aPack + p * j.aBatch + i * aPanelBytes;
    const b = j.bPack + p * j.bBatch;
    const c = j.c + p * j.cBatch + i * MR * j.ldc;
    for (let p0 = 0; p0 < j.k; p0 += KC) {
      const kc = Math.min(KC, j.k - p0);
      const acc = j.acc || p0 > 0 ? 1 : 0;
      for (let j0 = 0; j0 < j.nPanels; j0 += NC_PANELS) {
        run(a + p0 * MR * size, b + j0 * bPanelBytes + p0 * NR * size, c + j0 * NR * size, kc, j.ldc,
          Math.min(NC_PANELS, j.nPanels - j0), bPanelBytes, acc);
      }
    }
  }
}

/** Splits `items` into `parts` contiguous ranges as evenly as possible; part `w`'s range. */
export function share(items: number, parts: number, w: number): [number, number] {
  const base = Math.floor(items / parts), extra = items % parts;
  const from = w * base + Math.min(w, extra);
  return [from, from + base + (w < extra ? 1 : 0)];
}
