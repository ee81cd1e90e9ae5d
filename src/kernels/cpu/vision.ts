/**
 * The CPU reference for the vision ops: direct loops, written to be read. Every WGSL vision kernel is tested against
 * these, and gradients are checked against them by finite differences in float64. Arrays are contiguous NCHW.
 */
import type { Conv2dGeom, Pool2dGeom, TypedArray } from '../backend.js';
import { GpugradError } from '../../core/errors.js';

type Out = Float32Array | Float64Array;
const like = (x: TypedArray, n: number): Out => (x instanceof Float64Array ? new Float64Array(n) : new Float32Array(n));

/**
 * The offset in its input plane (ih·W + iw) that kernel tap (kh, kw) reads for output (oh, ow), or −1 when the tap
 * falls in the padding. One definition of conv geometry, shared by the three conv functions below.
 */
function tapInput(g: Conv2dGeom, oh: number, ow: number, kh: number, kw: number): number {
  const ih = oh * g.strideH - g.padH + kh * g.dilationH;
  const iw = ow * g.strideW - g.padW + kw * g.dilationW;
  return ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW ? -1 : ih * g.inW + iw;
}

/** Visits every (n, o, oh, ow, c, kh, kw) term of the convolution sum with its x, w and out indices. */
function forEachTerm(g: Conv2dGeom, fn: (xi: number, wi: number, oi: number) => void): void {
  const cg = g.inC / g.groups, og = g.outC / g.groups;
  const plane = g.inH * g.inW;
  for (let n = 0; n < g.batch; n++) {
    for (let o = 0; o < g.outC; o++) {
      const grp = Math.floor(o / og);
      for (let oh = 0; oh < g.outH; oh++) {
        for (let ow = 0; ow < g.outW; ow++) {
          const oi = ((n * g.outC + o) * g.outH + oh) * g.outW + ow;
          for (let c = 0; c < cg; c++) {
            const xBase = (n * g.inC + grp * cg + c) * plane;
            for (let kh = 0; kh < g.kH; kh++) {
              for (let kw = 0; kw < g.kW; kw++) {
                const at = tapInput(g, oh, ow, kh, kw);
                if (at >= 0) fn(xBase + at, ((o * cg + c) * g.kH + kh) * g.kW + kw, oi);
              }
            }
          }
        }
      }
    }
  }
}

export function conv2d(x: TypedArray, w: TypedArray, bias: TypedArray | null, g: Conv2dGeom): Out {
  const out = like(x, g.batch * g.outC * g.outH * g.outW);
  forEachTerm(g, (xi, wi, oi) => { out[oi] += x[xi] * w[wi]; });
  if (bias) {
    const plane = g.outH * g.outW;
    for (let i = 0; i < out.length; i++) out[i] += bias[Math.floor(i / plane) % g.outC];
  }
  return out;
}

export function conv2dBackwardInput(gradOut: TypedArray, w: TypedArray, g: Conv2dGeom): Out {
  const dx = like(gradOut, g.batch * g.inC * g.inH * g.inW);
  forEachTerm(g, (xi, wi, oi) => { dx[xi] += gradOut[oi] * w[wi]; });
  return dx;
}

export function conv2dBackwardWeight(x: TypedArray, gradOut: TypedArray, g: Conv2dGeom): Out {
  const dw = like(x, g.outC * (g.inC / g.groups) * g.kH * g.kW);
  forEachTerm(g, (xi, wi, oi) => { dw[wi] += gradOut[oi] * x[xi]; });
  return dw;
}

/** Max pooling with PyTorch's rules: padding is −∞, the first maximum in scan order wins, NaN wins over numbers. */
export function maxPool2d(x: TypedArray, g: Pool2dGeom): { out: Out; indices: Int32Array } {
  const n = g.batch * g.channels * g.outH * g.outW;
  const out = like(x, n), indices = new Int32Array(n);
  const plane = g.inH * g.inW;
  for (let i = 0; i < n; i++) {
    const ow = i % g.outW, oh = Math.floor(i / g.outW) % g.outH, nc = Math.floor(i / (g.outW * g.outH));
    let best = -Infinity, arg = -1;
    for (let kh = 0; kh < g.kH; kh++) {
      const ih = oh * g.strideH - g.padH + kh;
      if (ih < 0 || ih >= g.inH) continue;
      for (let kw = 0; kw < g.kW; kw++) {
        const iw = ow * g.strideW - g.padW + kw;
        if (iw < 0 || iw >= g.inW) continue;
        const v = x[nc * plane + ih * g.inW + iw];
        if (arg < 0 || v > best || (Number.isNaN(v) && !Number.isNaN(best))) { best = v; arg = ih * g.inW + iw; }
      }
    }
    out[i] = best;
    indices[i] = arg;
  }
  return { out, indices };
}

export function maxPool2dBackward(gradOut: TypedArray, indices: TypedArray, g: Pool2dGeom): Out {
  const dx = like(gradOut, g.batch * g.channels * g.inH * g.inW);
  const outPlane = g.outH * g.outW, plane = g.inH * g.inW;
  for (let i = 0; i < gradOut.length; i++) dx[Math.floor(i / outPlane) * plane + indices[i]] += gradOut[i];
  return dx;
}

export function poolGather(x: TypedArray, indices: TypedArray, g: Pool2dGeom): Out {
  const out = like(x, indices.length);
  const outPlane = g.outH * g.outW, plane = g.inH * g.inW;
  for (let i = 0; i < indices.length; i++) out[i] = x[Math.floor(i / outPlane) * plane + indices[i]];
  return out;
}

/**
 * The dropout mask's random bits: a counter-based hash of the element index and a 64-bit seed (two rounds of
 * murmur3's finaliser), so the GPU draws the same mask as this reference and backward recomputes it instead of
 * storing it. The WGSL twin lives in ../wgsl/dropout.ts.
 */
export function dropoutHash(i: number, s0: number, s1: number): number {
  const fmix = (h: number) => {
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  return fmix((fmix((i ^ s0) >>> 0) + s1) >>> 0);
}

/** The keep threshold: an element survives when its hash is ≥ round(p · 2³²). */
export const dropoutThreshold = (p: number) => Math.min(0xffffffff, Math.round(p * 4294967296));

export function dropout(x: TypedArray, p: number, seed: readonly [number, number]): Out {
  const out = like(x, x.length);
  const thr = dropoutThreshold(p), scale = 1 / (1 - p);
  for (let i = 0; i < x.length; i++) out[i] = dropoutHash(i, seed[0], seed[1]) >= thr ? x[i] * scale : 0;
  return out;
}

export function checkLabels(labels: TypedArray, classes: number, op = 'crossEntropy'): void {
  for (let b = 0; b < labels.length; b++) {
    const y = labels[b];
    if (!(y >= 0 && y < classes)) {
      throw new GpugradError(`${op}: label ${y} of row ${b} is out of range for ${classes} classes ` +
        `(labels must be class indices in [0, ${classes}))`);
    }
  }
}

/** Row b's max and log-sum-exp, by the online recurrence the GPU kernel uses (one pass, rescaling the sum). */
function rowLogSumExp(logits: TypedArray, b: number, classes: number): number {
  let m = -Infinity, s = 0;
  for (let c = 0; c < classes; c++) {
    const v = logits[b * classes + c];
    if (v > m) { s = s * Math.exp(m - v) + 1; m = v; } else s += Math.exp(v - m);
  }
  return m + Math.log(s);
}

export function crossEntropy(logits: TypedArray, labels: TypedArray, batch: number, classes: number): Out {
  checkLabels(labels, classes);
  let total = 0;
  for (let b = 0; b < batch; b++) total += rowLogSumExp(logits, b, classes) - logits[b * classes + labels[b]];
  const out = like(logits, 1);
  out[0] = total / batch;
  return out;
}

export function crossEntropyBackward(logits: TypedArray, labels: TypedArray, gradOut: TypedArray, batch: number, classes: number): Out {
  checkLabels(labels, classes);
  const out = like(logits, batch * classes);
  const scale = gradOut[0] / batch;
  for (let b = 0; b < batch; b++) {
    const lse = rowLogSumExp(logits, b, classes);
    for (let c = 0; c < classes; c++) {
      const i = b * classes + c;
      out[i] = (Math.exp(logits[i] - lse) - (c === labels[b] ? 1 : 0)) * scale;
    }
  }
  return out;
}

export function countCorrect(logits: TypedArray, labels: TypedArray, batch: number, classes: number): Int32Array {
  checkLabels(labels, classes, 'countCorrect');
  let correct = 0;
  for (let b = 0; b < batch; b++) {
    let best = -Infinity, arg = 0;
    for (let c = 0; c < classes; c++) {
      const v = logits[b * classes + c];
      if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) { best = v; arg = c; }
    }
    if (arg === labels[b]) correct++;
  }
  return Int32Array.of(correct);
}
