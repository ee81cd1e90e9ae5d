/**
 * Convolutions on the wasm device as gemms (im2col fused into the packing: the column matrix is never stored):
 *
 * - forward, per image:        out_n [O, P]  = W [O, K] · col_n [K, P]         (K = C·kH·kW, P = outH·outW)
 * - input gradient, per image: dcol_n [K, P] = Wᵀ [K, O] · gOut_n [O, P], scattered back onto dx (col2im)
 * - weight gradient, once:     dW [O, K]    = gOut [O, N·P] · colᵀ [N·P, K]  (the batch sum is the gemm's k)
 *
 * im2col + the SIMD gemm was chosen over a direct convolution because the gemm is where the SIMD and threading work
 * lives; the packing is the only conv-specific code. Grouped convolutions return null (the caller runs the reference).
 * Results sum in a different order than the reference's loops: they agree to rounding, not bit for bit.
 */
import type { Conv2dGeom, Storage, TypedArray } from '../backend.js';
import { packA, packB } from './gemm.js';
import type { WasmBackend, WasmStorage } from './backend.js';
import { MR, nr } from './kernels.js';

const el = (s: Storage) => (s as WasmStorage).ptr / (s.dtype === 'float64' ? 8 : 4);

/** The output pixel (oh, ow) of each of a panel's NR columns, as the input row/column of tap (0, 0); −1e9: none. */
function panelOrigins(g: Conv2dGeom, firstPixel: number, NR: number, ih0: Int32Array, iw0: Int32Array): void {
  const P = g.outH * g.outW;
  for (let c = 0; c < NR; c++) {
    const pix = firstPixel + c;
    if (pix >= P) { ih0[c] = -1e9; iw0[c] = -1e9; continue; }
    const oh = Math.floor(pix / g.outW), ow = pix - oh * g.outW;
    ih0[c] = oh * g.strideH - g.padH;
    iw0[c] = ow * g.strideW - g.padW;
  }
}

/** Packs col_n [K, P] of one image (starting at element xOff) into NR-column panels: im2col on the fly. */
function packCol(dst: TypedArray, at: number, x: TypedArray, xOff: number, g: Conv2dGeom, NR: number): void {
  const P = g.outH * g.outW, K = g.inC * g.kH * g.kW, plane = g.inH * g.inW;
  const ih0 = new Int32Array(NR), iw0 = new Int32Array(NR);
  for (let j = 0; j * NR < P; j++) {
    panelOrigins(g, j * NR, NR, ih0, iw0);
    let d = at + j * K * NR;
    for (let ch = 0; ch < g.inC; ch++) {
      const base = xOff + ch * plane;
      for (let kh = 0; kh < g.kH; kh++) {
        for (let kw = 0; kw < g.kW; kw++, d += NR) {
          for (let c = 0; c < NR; c++) {
            const ih = ih0[c] + kh * g.dilationH, iw = iw0[c] + kw * g.dilationW;
            dst[d + c] = ih >= 0 && ih < g.inH && iw >= 0 && iw < g.inW ? x[base + ih * g.inW + iw] : 0;
          }
        }
      }
    }
  }
}

/** Packs colᵀ [N·P, K] of the whole batch into NR-column panels (columns are the K taps). */
function packColT(dst: TypedArray, at: number, x: TypedArray, xOff: number, g: Conv2dGeom, NR: number): void {
  const P = g.outH * g.outW, K = g.inC * g.kH * g.kW, plane = g.inH * g.inW, rows = g.batch * P;
  const tapOff = new Int32Array(NR), tapH = new Int32Array(NR), tapW = new Int32Array(NR), valid = new Uint8Array(NR);
  for (let j = 0; j * NR < K; j++) {
    for (let c = 0; c < NR; c++) {
      const q = j * NR + c;
      valid[c] = q < K ? 1 : 0;
      const ch = Math.floor(q / (g.kH * g.kW)), r = q - ch * g.kH * g.kW, kh = Math.floor(r / g.kW), kw = r - kh * g.kW;
      tapOff[c] = ch * plane; tapH[c] = kh * g.dilationH; tapW[c] = kw * g.dilationW;
    }
    let d = at + j * rows * NR;
    for (let n = 0; n < g.batch; n++) {
      const img = xOff + n * g.inC * plane;
      for (let oh = 0; oh < g.outH; oh++) {
        const ihBase = oh * g.strideH - g.padH;
        for (let ow = 0; ow < g.outW; ow++, d += NR) {
          const iwBase = ow * g.strideW - g.padW;
          for (let c = 0; c < NR; c++) {
            const ih = ihBase + tapH[c], iw = iwBase + tapW[c];
            dst[d + c] = valid[c] && ih >= 0 && ih < g.inH && iw >= 0 && iw < g.inW ? x[img + tapOff[c] + ih * g.inW + iw] : 0;
          }
        }
      }
    }
  }
}

export function conv2d(be: WasmBackend, x: Storage, w: Storage, bias: Storage | null, g: Conv2dGeom): Storage | null {
  if (g.groups !== 1) return null;
  const dtype = x.dtype, f64 = dtype === 'float64', NR = nr(f64 ? 'f64' : 'f32');
  const K = g.inC * g.kH * g.kW, P = g.outH * g.outW, O = g.outC;
  const out = be.alloc(g.batch * O * P, dtype);
  const xEl = el(x), wEl = el(w), outEl = el(out), biasEl = bias ? el(bias) : -1;
  be.gemm.run({
    f64, batch: g.batch, m: O, n: P, k: K, aShared: true, bShared: false,
    packA: (dst, at) => packA(dst, at, be.whole(dtype), wEl, K, 1, O, K),
    packB: (dst, at, n) => packCol(dst, at, be.whole(dtype), xEl + n * g.inC * g.inH * g.inW, g, NR),
    sink: (c, cAt, ldc, n) => {
      const o = be.whole(dtype);
      for (let oc = 0; oc < O; oc++) {
        const b = biasEl >= 0 ? o[biasEl + oc] : 0, src = cAt + oc * ldc, dst = outEl + (n * O + oc) * P;
        for (let p = 0; p < P; p++) o[dst + p] = c[src + p] + b;
      }
    },
  });
  return out;
}

export function conv2dBackwardInput(be: WasmBackend, gradOut: Storage, w: Storage, g: Conv2dGeom): Storage | null {
  if (g.groups !== 1) return null;
  const dtype = gradOut.dtype, f64 = dtype === 'float64', NR = nr(f64 ? 'f64' : 'f32');
  const K = g.inC * g.kH * g.kW, P = g.outH * g.outW, O = g.outC, plane = g.inH * g.inW;
  const dx = be.fill(g.batch * g.inC * plane, 0, dtype);
  const gEl = el(gradOut), wEl = el(w), dxEl = el(dx);
  be.gemm.run({
    f64, batch: g.batch, m: K, n: P, k: O, aShared: true, bShared: false,
    packA: (dst, at) => packA(dst, at, be.whole(dtype), wEl, 1, K, K, O),
    packB: (dst, at, n) => packB(dst, at, be.whole(dtype), gEl + n * O * P, P, 1, O, P, NR),
    sink: (c, cAt, ldc, n) => {
      // col2im: tap q of output pixel p adds into the input element it read
      const o = be.whole(dtype);
      for (let q = 0; q < K; q++) {
        const ch = Math.floor(q / (g.kH * g.kW)), r = q - ch * g.kH * g.kW, kh = Math.floor(r / g.kW), kw = r - kh * g.kW;
        const base = dxEl + (n * g.inC + ch) * plane, src = cAt + q * ldc;
        for (let oh = 0; oh < g.outH; oh++) {
          const ih = oh * g.strideH - g.padH + kh * g.dilationH;
          if (ih < 0 || ih >= g.inH) continue;
          for (let ow = 0; ow < g.outW; ow++) {
            const iw = ow * g.strideW - g.padW + kw * g.dilationW;
            if (iw >= 0 && iw < g.inW) o[base + ih * g.inW + iw] += c[src + oh * g.outW + ow];
          }
        }
      }
    },
  });
  return dx;
}

export function conv2dBackwardWeight(be: WasmBackend, x: Storage, gradOut: Storage, g: Conv2dGeom): Storage | null {
  if (g.groups !== 1) return null;
  const dtype = x.dtype, f64 = dtype === 'float64', NR = nr(f64 ? 'f64' : 'f32');
  const K = g.inC * g.kH * g.kW, P = g.outH * g.outW, O = g.outC, rows = g.batch * P;
  if (rows === 0) return be.fill(O * K, 0, dtype);
  const dw = be.alloc(O * K, dtype);
  const xEl = el(x), gEl = el(gradOut), dwEl = el(dw);
  be.gemm.run({
    f64, batch: 1, m: O, n: K, k: rows, aShared: true, bShared: true,
    // A = gOut as [O, N·P]: image n's [O, P] block is the k segment [n·P, (n+1)·P) of every panel
    packA: (dst, at) => {
      for (let n = 0; n < g.batch; n++) packA(dst, at + n * P * MR, be.whole(dtype), gEl + n * O * P, P, 1, O, P, rows * MR);
    },
    packB: (dst, at) => packColT(dst, at, be.whole(dtype), xEl, g, NR),
    sink: (c, cAt, ldc) => {
      const o = be.whole(dtype);
      for (let oc = 0; oc < O; oc++) for (let q = 0; q < K; q++) o[dwEl + oc * K + q] = c[cAt + oc * ldc + q];
    },
  });
  return dw;
}
