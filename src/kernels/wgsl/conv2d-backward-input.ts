/**
 * conv2d's input gradient in gather form (no atomics): every input element sums, over output channels and kernel
 * taps, the output gradients it contributed to. Tap (kh, kw) of output (oh, ow) reads input (ih, iw) when
 * ih + padH − kh·dilationH = oh·strideH, so for each input pixel and tap there is at most one output — or none, when
 * the division by the stride is not exact or lands outside the output.
 *
 * Same register tiling as the forward kernel (see conv2d.ts): an invocation owns 4 input channels × 4 input pixels
 * (flattened over batch × H × W) in four named vec4 accumulators; loops run kernel row, kernel column, then output
 * channel innermost. `unitStride` drops the divisibility tests (stride 1: the common case).
 *
 * Parameters: 0..17 as conv2d.ts, 18 channel tiles per group (⌈(C/groups)/4⌉), 19 pixel tiles, 20 pixels (N·H·W).
 */
import { type KernelSpec, bindings, main1d, memoKernel, paramsWgsl } from './common.js';

export const WG = 64;
const range = (n: number) => [...Array(n).keys()];

function source(unitStride: boolean): KernelSpec {
  const pix = range(4).map((j) => `
  let q${j} = min(qs + ${j}u, P(20u) - 1u);
  let n${j} = q${j} / hw; let r${j} = q${j} % hw;
  let th${j} = i32(r${j} / W) + i32(P(11u));
  let tw${j} = i32(r${j} % W) + i32(P(12u));
  let gb${j} = i32((n${j} * O + og0) * ohw);
  let xo${j} = n${j} * C * hw + r${j};`).join('');
  // which output row/column this tap of this pixel came from, and whether there is one
  const rowTest = range(4).map((j) => unitStride
    ? `
      let oh${j} = th${j} - khd; let okh${j} = u32(oh${j}) < OH;`
    : `
      let sh${j} = th${j} - khd; let oh${j} = sh${j} / sH;
      let okh${j} = sh${j} >= 0 && oh${j} * sH == sh${j} && u32(oh${j}) < OH;`).join('');
  const colTest = range(4).map((j) => unitStride
    ? `
        let ow${j} = tw${j} - kwd; let ok${j} = okh${j} && u32(ow${j}) < OW;
        var gi${j} = select(0u, u32(gb${j} + oh${j} * i32(OW) + ow${j}), ok${j});`
    : `
        let sw${j} = tw${j} - kwd; let ow${j} = sw${j} / sW;
        let ok${j} = okh${j} && sw${j} >= 0 && ow${j} * sW == sw${j} && u32(ow${j}) < OW;
        var gi${j} = select(0u, u32(gb${j} + oh${j} * i32(OW) + ow${j}), ok${j});`).join('');
  const store = range(4).map((i) => `
  if (ct * 4u + ${i}u < Cg) {
    let coff = (c0 + ${i}u) * hw;
    dx[xo0 + coff] = acc${i}.x;
    if (qs + 1u < P(20u)) { dx[xo1 + coff] = acc${i}.y; }
    if (qs + 2u < P(20u)) { dx[xo2 + coff] = acc${i}.z; }
    if (qs + 3u < P(20u)) { dx[xo3 + coff] = acc${i}.w; }
  }`).join('');
  return {
    key: `conv2d-backward-input:${unitStride ? 'unit' : 'strided'}`,
    inputs: 2,
    outputs: 1,
    source: `${paramsWgsl}
${bindings([{ name: 'gy', type: 'f32' }, { name: 'w', type: 'f32' }], [{ name: 'dx', type: 'f32' }])}
${main1d(WG)}
  let tilesP = P(19u); let tilesC = P(18u);
  if (idx >= P(15u) * tilesC * tilesP) { return; }
  let pt = idx % tilesP;
  let ct = (idx / tilesP) % tilesC;
  let grp = idx / (tilesP * tilesC);
  let C = P(1u); let H = P(2u); let W = P(3u); let O = P(4u); let kH = P(5u); let kW = P(6u);
  let OH = P(7u); let OW = P(8u); let ohw = OH * OW; let hw = H * W;
  let sH = i32(P(9u)); let sW = i32(P(10u));
  let Cg = P(16u); let Og = P(17u); let KK = kH * kW;
  let og0 = grp * Og;
  let c0 = grp * Cg + ct * 4u;
  let wstep = Cg * KK;
${range(4).map((i) => `  let wr${i} = og0 * wstep + min(ct * 4u + ${i}u, Cg - 1u) * KK;`).join('\n')}
  let qs = pt * 4u;
${pix}
${range(4).map((i) => `  var acc${i} = vec4<f32>(0.0);`).join('\n')}
  for (var kh = 0u; kh < kH; kh++) {
    let khd = i32(kh * P(13u));${rowTest}
    for (var kw = 0u; kw < kW; kw++) {
      let kwd = i32(kw * P(14u));${colTest}
      var wk = kh * kW + kw;
      for (var o = 0u; o < Og; o++) {
        let gv = vec4<f32>(${range(4).map((j) => `select(0.0, gy[gi${j}], ok${j})`).join(', ')});
${range(4).map((i) => `        acc${i} = fma(vec4<f32>(w[wr${i} + wk]), gv, acc${i});`).join('\n')}
        ${range(4).map((j) => `gi${j} += ohw;`).join(' ')}
        wk += wstep;
      }
    }
  }${store}
}`,
  };
}

export const conv2dBackwardInputKernel = memoKernel(source);
