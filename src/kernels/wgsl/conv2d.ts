/**
 * conv2d forward as an implicit GEMM: out[o, pixel] = Σ_k w[o, k] · im2col(x)[k, pixel], with the im2col matrix never
 * materialised — each tap is read from x where it lies (or is zero in the padding).
 *
 * Register tiling, no workgroup memory: an invocation owns `TO` output channels × 4 output pixels (flattened over
 * batch × outH × outW, so neighbouring invocations read neighbouring pixels) and keeps them in `TO` named vec4
 * accumulators. The loops run kernel row, kernel column, then input channel innermost, so a tap's padding test is made
 * once per (kh, kw) and the channel loop is only loads and fmas: the shape SwiftShader runs fastest. Padded taps read
 * element 0 and select 0, which keeps every read in bounds without a branch.
 *
 * Variants: 'o4' (4 channels × 4 pixels) and 'o8' (8 × 4: twice the reuse of each x load, for wide layers); the
 * backend picks by the channels per group. `padded` is specialised away for convs without padding.
 *
 * Parameters: 0 N, 1 C, 2 H, 3 W, 4 O, 5 kH, 6 kW, 7 outH, 8 outW, 9 strideH, 10 strideW, 11 padH, 12 padW,
 * 13 dilationH, 14 dilationW, 15 groups, 16 C/groups, 17 O/groups, 18 channel tiles per group, 19 pixel tiles,
 * 20 pixels (N·outH·outW).
 */
import { type KernelSpec, bindings, main1d, memoKernel, paramsWgsl } from './common.js';

export const WG = 64;
export type Conv2dVariant = 'o4' | 'o8';
export const conv2dVariants: readonly Conv2dVariant[] = ['o4', 'o8'];
export const channelsPerThread = (v: Conv2dVariant) => (v === 'o8' ? 8 : 4);

const range = (n: number) => [...Array(n).keys()];

/** WGSL that decodes 4 flattened pixels qs..qs+3 into `xb{j}` (x offset of the tap (0,0)), ih/iw origins and `ob{j}`. */
export function pixelSetup(): string {
  return range(4).map((j) => `
  let q${j} = min(qs + ${j}u, P(20u) - 1u);
  let n${j} = q${j} / ohw; let r${j} = q${j} % ohw;
  let ih${j} = i32((r${j} / OW) * P(9u)) - i32(P(11u));
  let iw${j} = i32((r${j} % OW) * P(10u)) - i32(P(12u));
  let xb${j} = i32((n${j} * C + cg0) * hw) + ih${j} * i32(W) + iw${j};
  let ob${j} = n${j} * O * ohw + r${j};`).join('');
}

function conv2dSource(variant: Conv2dVariant, padded: boolean, bias: boolean): KernelSpec {
  const TO = channelsPerThread(variant);
  const rows = range(TO);
  const inputs = [{ name: 'x', type: 'f32' }, { name: 'w', type: 'f32' }];
  if (bias) inputs.push({ name: 'bias', type: 'f32' });
  const tapTest = padded
    ? range(4).map((j) => `
      let ok${j} = u32(ih${j} + khd) < H && u32(iw${j} + kwd) < W;
      var xi${j} = select(0u, u32(xb${j} + tap), ok${j});`).join('')
    : range(4).map((j) => `
      var xi${j} = u32(xb${j} + tap);`).join('');
  const load = (j: number) => (padded ? `select(0.0, x[xi${j}], ok${j})` : `x[xi${j}]`);
  const store = rows.map((i) => `
  if (ot * ${TO}u + ${i}u < Og) {
    let o = o0 + ${i}u;
    let v = acc${i}${bias ? ' + vec4<f32>(bias[o])' : ''};
    let ooff = o * ohw;
    out[ob0 + ooff] = v.x;
    if (qs + 1u < P(20u)) { out[ob1 + ooff] = v.y; }
    if (qs + 2u < P(20u)) { out[ob2 + ooff] = v.z; }
    if (qs + 3u < P(20u)) { out[ob3 + ooff] = v.w; }
  }`).join('');
  return {
    key: `conv2d:${variant}:${padded ? 'pad' : 'nopad'}:${bias ? 'bias' : ''}`,
    inputs: inputs.length,
    outputs: 1,
    source: `${paramsWgsl}
${bindings(inputs, [{ name: 'out', type: 'f32' }])}
${main1d(WG)}
  let tilesP = P(19u); let tilesO = P(18u);
  if (idx >= P(15u) * tilesO * tilesP) { return; }
  let pt = idx % tilesP;
  let ot = (idx / tilesP) % tilesO;
  let grp = idx / (tilesP * tilesO);
  let C = P(1u); let H = P(2u); let W = P(3u); let O = P(4u); let kH = P(5u); let kW = P(6u);
  let OW = P(8u); let ohw = P(7u) * OW; let hw = H * W;
  let Cg = P(16u); let Og = P(17u); let KK = kH * kW;
  let cg0 = grp * Cg;
  let o0 = grp * Og + ot * ${TO}u;
${rows.map((i) => `  let wr${i} = min(o0 + ${i}u, grp * Og + Og - 1u) * Cg * KK;`).join('\n')}
  let qs = pt * 4u;
${pixelSetup()}
${rows.map((i) => `  var acc${i} = vec4<f32>(0.0);`).join('\n')}
  for (var kh = 0u; kh < kH; kh++) {
    let khd = i32(kh * P(13u));
    for (var kw = 0u; kw < kW; kw++) {
      let kwd = i32(kw * P(14u));
      let tap = khd * i32(W) + kwd;${tapTest}
      var wk = kh * kW + kw;
      for (var c = 0u; c < Cg; c++) {
        let xv = vec4<f32>(${range(4).map(load).join(', ')});
${rows.map((i) => `        acc${i} = fma(vec4<f32>(w[wr${i} + wk]), xv, acc${i});`).join('\n')}
        ${range(4).map((j) => `xi${j} += hw;`).join(' ')}
        wk += KK;
      }
    }
  }${store}
}`,
  };
}

export const conv2dKernel = memoKernel(conv2dSource);
