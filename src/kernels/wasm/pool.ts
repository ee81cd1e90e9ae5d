/**
 * Max pooling on the wasm device: the reference's rules (./cpu/vision.ts: padding is −∞, the first maximum in scan
 * order wins, NaN wins over numbers; the index is h·W + w in the plane) as loops over output rows written in place in
 * the wasm memory — the reference divides to find each output's coordinates and returns new arrays that would be
 * copied in (a quarter of a CNN-A step on this device before this file).
 */
import type { Pool2dGeom, TypedArray } from '../backend.js';

/** out, indices: element offsets in `f` (float view of out/x) and `idx` (int32 view) of the whole memory. */
export function maxPoolInto(f: TypedArray, idx: Int32Array, xAt: number, outAt: number, indAt: number, g: Pool2dGeom): void {
  const plane = g.inH * g.inW;
  let o = 0;
  for (let nc = 0; nc < g.batch * g.channels; nc++) {
    const base = xAt + nc * plane;
    for (let oh = 0; oh < g.outH; oh++) {
      const h0 = oh * g.strideH - g.padH;
      const khLo = Math.max(0, -h0), khHi = Math.min(g.kH, g.inH - h0);
      for (let ow = 0; ow < g.outW; ow++, o++) {
        const w0 = ow * g.strideW - g.padW;
        const kwLo = Math.max(0, -w0), kwHi = Math.min(g.kW, g.inW - w0);
        let best = -Infinity, arg = -1;
        for (let kh = khLo; kh < khHi; kh++) {
          const row = (h0 + kh) * g.inW + w0;
          for (let kw = kwLo; kw < kwHi; kw++) {
            const v = f[base + row + kw];
            if (arg < 0 || v > best || (v !== v && best === best)) { best = v; arg = row + kw; }
          }
        }
        f[outAt + o] = best;
        idx[indAt + o] = arg;
      }
    }
  }
}

/** dx (zeroed, at dxAt) += gradOut routed through the indices: each output's gradient goes to the input it chose. */
export function maxPoolBackwardInto(f: TypedArray, idx: Int32Array, gAt: number, indAt: number, dxAt: number, g: Pool2dGeom): void {
  const outPlane = g.outH * g.outW, plane = g.inH * g.inW;
  for (let nc = 0, i = 0; nc < g.batch * g.channels; nc++) {
    const base = dxAt + nc * plane;
    for (let j = 0; j < outPlane; j++, i++) {
      const k = idx[indAt + i];
      if (k >= 0) f[base + k] += f[gAt + i]; // −1: a window wholly in the padding chose nothing
    }
  }
}

