/**
 * Matmul on the wasm device, around the SIMD micro-kernel of ./kernels.ts:
 *
 * 1. Pack (main thread, wasm kernels of ./pack-kernels.ts): A into MR-row panels [k][MR] and B into NR-column panels
 *    [k][NR], zero-padded, from any strides — so transposed operands, broadcast batches and conv's im2col all reach the kernel in the one layout it
 *    reads with unit stride. A operand with batch stride 0 is packed once for the whole batch.
 * 2. Multiply (`gemmItems`, main thread and workers): a work item is one A panel of one batch entry; the threads split
 *    the items. For each item, k is cut into KC-long blocks and n into NC-wide blocks, so the A panel (KC × MR) stays in
 *    L1 while the kernel streams the B block (KC × NC, ≤ 128 KiB) from L2, and tiles accumulate across k blocks.
 * 3. The kernel writes only C's valid part, with the epilogue (bias, ReLU) fused: a matmul's C is its output; conv
 *    gives a scratch C and reads it back (./run-gemm.ts).
 */
import type { Float } from './emit.js';
import type { Kernels } from './kernels.js';
import { MR, nr } from './tile.js';

export const KC = 256;
/** B block width in panels: KC × 16 panels × NR × element = 128 KiB (float32 and float64 alike), an L2's worth. */
const NC_PANELS = 16;

/**
 * A gemm in packed form; addresses and strides in bytes. C's valid part is m × n (row stride ldc); `bias` (0: none,
 * `biasBatch` bytes between batch entries) and `relu` are the epilogue. Serialised into an Int32Array for the workers.
 */
export interface GemmJob {
  f64: boolean;
  aPack: number; aBatch: number; bPack: number; bBatch: number; c: number; cBatch: number;
  mPanels: number; nPanels: number; k: number; ldc: number; m: number; n: number;
  bias: number; biasBatch: number; relu: boolean;
  /** the bias is per row of C (conv's per-channel bias), not per column */
  biasRows: boolean;
}

const FIELDS = ['aPack', 'aBatch', 'bPack', 'bBatch', 'c', 'cBatch', 'mPanels', 'nPanels', 'k', 'ldc', 'm', 'n', 'bias',
  'biasBatch'] as const;
export const GEMM_WORDS = FIELDS.length + 2;
export function encodeGemm(j: GemmJob, out: Int32Array, at: number): void {
  out[at] = j.f64 ? 1 : 0;
  out[at + 1] = (j.relu ? 1 : 0) | (j.biasRows ? 2 : 0);
  FIELDS.forEach((f, i) => { out[at + 2 + i] = j[f]; });
}
export function decodeGemm(w: Int32Array, at: number): GemmJob {
  const j = { f64: w[at] === 1, relu: (w[at + 1] & 1) !== 0, biasRows: (w[at + 1] & 2) !== 0 } as GemmJob;
  FIELDS.forEach((f, i) => { j[f] = w[at + 2 + i]; });
  return j;
}

/** Runs work items [from, to) of a job: item = batchEntry · mPanels + A panel; consecutive panels go in one call. */
export function gemmItems(kern: Kernels, j: GemmJob, from: number, to: number): void {
  const t: Float = j.f64 ? 'f64' : 'f32';
  const size = j.f64 ? 8 : 4, NR = nr(t);
  const run = j.f64 ? kern.gemm_f64 : kern.gemm_f32;
  const aPanelBytes = j.k * MR * size, bPanelBytes = j.k * NR * size;
  for (let item = from; item < to;) {
    const p = Math.floor(item / j.mPanels), i0 = item - p * j.mPanels;
    const i1 = Math.min(j.mPanels, i0 + (to - item));
    const a = j.aPack + p * j.aBatch + i0 * aPanelBytes;
    const b = j.bPack + p * j.bBatch;
    const c = j.c + p * j.cBatch + i0 * MR * j.ldc;
    const bias = j.bias ? j.bias + p * j.biasBatch : 0;
    for (let p0 = 0; p0 < j.k; p0 += KC) {
      const kc = Math.min(KC, j.k - p0);
      const last = p0 + kc >= j.k;
      for (let j0 = 0; j0 < j.nPanels; j0 += NC_PANELS) {
        run(a + p0 * MR * size, b + j0 * bPanelBytes + p0 * NR * size, c + j0 * NR * size, kc, j.ldc,
          Math.min(NC_PANELS, j.nPanels - j0), bPanelBytes, p0 > 0 ? 1 : 0, i1 - i0, aPanelBytes, j.m - i0 * MR, j.n - j0 * NR,
          last && bias ? bias + (j.biasRows ? i0 * MR : j0 * NR) * size : 0, last && j.relu ? 1 : 0, j.biasRows ? 1 : 0);
      }
    }
    item += i1 - i0;
  }
}

/** Splits `items` into `parts` contiguous ranges as evenly as possible; part `w`'s range. */
export function share(items: number, parts: number, w: number): [number, number] {
  const base = Math.floor(items / parts), extra = items % parts;
  const from = w * base + Math.min(w, extra);
  return [from, from + base + (w < extra ? 1 : 0)];
}
