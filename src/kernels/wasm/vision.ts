/**
 * Convolutions on the wasm device as gemms over the column matrix (im2col), one image at a time:
 *
 * - forward, per image:        out_n [O, P]  = W [O, K] · col_n [K, P]         (K = C·kH·kW, P = outH·outW)
 * - input gradient, per image: dcol_n [K, P] = Wᵀ [K, O] · gOut_n [O, P], added back onto dx (col2im)
 * - weight gradient, once:     dWᵀ [K, O]   = col [K, N·P] · gOutᵀ [N·P, O]  (the batch sum is the gemm's k)
 *
 * im2col + the SIMD gemm was chosen over a direct convolution because the gemm is where the SIMD and threading work
 * lives; im2col (written straight into the gemm's packed panels) and col2im (wasm kernels, ./pack-kernels.ts) are the
 * only conv-specific code. Grouped convolutions return null (the caller runs the reference).
 * Results sum in a different order than the reference's loops: they agree to rounding, not bit for bit.
 */
import type { Conv2dGeom, Storage } from '../backend.js';
import type { WasmBackend, WasmStorage } from './backend.js';
import type { Callable } from './batched.js';
import type { Kernels } from './kernels.js';
import { filled } from './run-gemm.js';
import { MR, nr } from './tile.js';

const ptr = (s: Storage) => (s as WasmStorage).ptr;

/** The geometry as the col kernels take it (after x, col, ld). */
const geomArgs = (g: Conv2dGeom) => [g.inC, g.inH, g.inW, g.kH, g.kW, g.outH, g.outW, g.strideH, g.strideW, g.padH, g.padW,
  g.dilationH, g.dilationW] as const;

interface ConvKernels {
  size: number; NR: number;
  packA: Kernels['packA_f32']; packB: Kernels['packB_f32']; im2col: Callable; col2im: Callable;
}
function kernelsFor(be: WasmBackend, f64: boolean): ConvKernels {
  const k = be.kernels;
  return f64
    ? { size: 8, NR: nr('f64'), packA: k.packA_f64, packB: k.packB_f64, im2col: 'im2col_f64', col2im: 'col2im_f64' }
    : { size: 4, NR: nr('f32'), packA: k.packA_f32, packB: k.packB_f32, im2col: 'im2col_f32', col2im: 'col2im_f32' };
}

/** A width that is never reached: no paneling along that index. */
const NONE = 0x7fffffff;
/** Column-matrix layouts (see ./pack-kernels.ts): B panels of NR pixels; A panels of MR taps, `rows` long; rows of `ld`. */
const bPanels = (K: number, NR: number) => [NONE, 0, NR, NR, K * NR, 1] as const;
const aPanels = (rows: number) => [MR, rows * MR, 1, NONE, 0, MR] as const;
const plainRows = (ld: number) => [NONE, 0, ld, NONE, 0, 1] as const;

/** Zeroes `count` elements at byte address `at` (the padding of a last, partial panel: the walk writes only valid ones). */
function zero(be: WasmBackend, dtype: Storage['dtype'], at: number, count: number, size: number): void {
  be.whole(dtype).fill(0, at / size, at / size + count);
}

export function conv2d(be: WasmBackend, x: Storage, w: Storage, bias: Storage | null, g: Conv2dGeom): Storage | null {
  if (g.groups !== 1) return null;
  const dtype = x.dtype, f64 = dtype === 'float64', kk = kernelsFor(be, f64), size = kk.size;
  const K = g.inC * g.kH * g.kW, P = g.outH * g.outW, O = g.outC, image = g.inC * g.inH * g.inW * size;
  const out = be.alloc(g.batch * O * P, dtype);
  // the gemm writes each image's [O, P] block of the NCHW output itself, + the bias per channel (row)
  return filled(be, out, () => be.gemm.run({
    op: 'conv2d', f64, batch: g.batch, m: O, n: P, k: K, aShared: true, bShared: false,
    packA: (at) => kk.packA(ptr(w), at, K, 1, O, K, K * MR),
    // im2col straight into B's panels; a partial last panel's columns past P stay zero
    packBAll: (at, each) => {
      if (P % kk.NR) for (let n = 0; n < g.batch; n++) zero(be, dtype, at + n * each + Math.floor(P / kk.NR) * K * kk.NR * size, K * kk.NR, size);
      be.gemm.batched({ fn: kk.im2col, args: [ptr(x), at, ...bPanels(K, kk.NR), ...geomArgs(g)], strides: [image, each] },
        g.batch, K * P * g.batch, 'conv2d');
    },
    out: { c: out.ptr, bias: bias ? ptr(bias) : 0, biasBatch: 0, relu: false, biasRows: true },
  }));
}

export function conv2dBackwardInput(be: WasmBackend, gradOut: Storage, w: Storage, g: Conv2dGeom): Storage | null {
  if (g.groups !== 1) return null;
  const dtype = gradOut.dtype, f64 = dtype === 'float64', kk = kernelsFor(be, f64), size = kk.size;
  const K = g.inC * g.kH * g.kW, P = g.outH * g.outW, O = g.outC, image = g.inC * g.inH * g.inW;
  const dx = be.fill(g.batch * image, 0, dtype);
  return filled(be, dx, () => be.gemm.run({
    op: 'conv2d backward (input)', f64, batch: g.batch, m: K, n: P, k: O, aShared: true, bShared: false,
    packA: (at) => kk.packA(ptr(w), at, 1, K, K, O, O * MR),
    packB: (at, n) => kk.packB(ptr(gradOut) + n * O * P * size, at, P, 1, O, P, O * kk.NR),
    // col2im: tap q of output pixel p adds into the input element it read
    sinkAll: (c, ldc, each) => be.gemm.batched({ fn: kk.col2im, args: [ptr(dx), c, ...plainRows(ldc), ...geomArgs(g)],
      strides: [image * size, each] }, g.batch, K * P * g.batch, 'conv2d backward (input)'),
  }));
}

export function conv2dBackwardWeight(be: WasmBackend, x: Storage, gradOut: Storage, g: Conv2dGeom): Storage | null {
  if (g.groups !== 1) return null;
  const dtype = x.dtype, f64 = dtype === 'float64', kk = kernelsFor(be, f64), size = kk.size;
  const K = g.inC * g.kH * g.kW, P = g.outH * g.outW, O = g.outC, rows = g.batch * P, image = g.inC * g.inH * g.inW * size;
  if (rows === 0) return be.fill(O * K, 0, dtype);
  const dw = be.alloc(O * K, dtype);
  const dwEl = dw.ptr / size;
  // dWᵀ [K, O] = col [K, N·P] · gOutᵀ [N·P, O]: image n is the k segment [n·P, (n+1)·P) of every panel
  return filled(be, dw, () => be.gemm.run({
    op: 'conv2d backward (weight)', f64, batch: 1, m: K, n: O, k: rows, aShared: true, bShared: true,
    // im2col straight into A's panels (MR taps each); a partial last panel's taps past K stay zero
    packA: (at) => {
      if (K % MR) zero(be, dtype, at + Math.floor(K / MR) * rows * MR * size, rows * MR, size);
      be.gemm.batched({ fn: kk.im2col, args: [ptr(x), at, ...aPanels(rows), ...geomArgs(g)], strides: [image, P * MR * size] },
        g.batch, K * P * g.batch, 'conv2d backward (weight)');
    },
    // B (k = (n, p), column o) = gOut[n, o, p]
    packB: (at) => {
      for (let n = 0; n < g.batch; n++) kk.packB(ptr(gradOut) + n * O * P * size, at + n * P * kk.NR * size, 1, P, P, O, rows * kk.NR);
    },
    sink: (c, cAt, ldc) => {
      const o = be.whole(dtype);
      for (let q = 0; q < K; q++) for (let oc = 0; oc < O; oc++) o[dwEl + oc * K + q] = c[cAt + q * ldc + oc];
    },
  }));
}
