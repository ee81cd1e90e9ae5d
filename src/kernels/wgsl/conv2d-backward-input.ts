/**
 * conv2d's input gradient in gather form (no atomics): every input element sums, over output channels and kernel
 * taps, the output gradients it contributed to. Tap (kh, kw) of output (oh, ow) reads input (ih, iw) when
 * ih + padH − kh·dilationH = oh·strideH, so for each input pixel and tap there is at most one output — or none, when
 * the division by the stride is not exact or lands outside the output.
 *
 * The same register tiling as the forward kernel (see conv2d.ts): an invocation owns `TC` input channels × `TP`
 * neighbouring pixels of one input row, in named vec4 accumulators; loops run kernel row, kernel column, then output
 * channel innermost. A kernel row whose output row does not exist is skipped for the whole tile (the test is the same
 * for every pixel of a row), and so is a tap that misses for all the tile's pixels — which is most taps near the
 * borders, where the "full" correlation reaches into zero padding.
 *
 * No division in the loops (SwiftShader's compiler stalls on per-pixel divisions there): each pixel's
 * t = iw + padW is split once into t = q·stride + r, and tap offset d = kw·dilation into d = a·stride + ra; the tap
 * reaches an output exactly when r = ra, and that output is ow = q − a.
 *
 * Variants `c{TC}p{TP}`: one channel per invocation for 1- and 3-channel inputs (the first layers), 4 or 8 for wider.
 *
 * Uniforms: conv2d.ts's geometry, then tilesC the channel tiles per group (⌈(C/groups)/TC⌉), tilesP the pixel tiles
 * (N·H·⌈W/TP⌉), perRow the tiles per row (⌈W/TP⌉).
 */
import { type ConvUniform, convUniforms } from './conv2d.js';
import { type KernelProgram, kernelProgram, lane, memoKernel, range } from './program.js';
export const conv2dBackwardInputVariants = ['c1p8', 'c4p4', 'c4p8', 'c8p4', 'c8p8'] as const;
export type Conv2dBackwardInputVariant = (typeof conv2dBackwardInputVariants)[number];
export function backwardInputTile(v: Conv2dBackwardInputVariant): { TC: number; TP: number } {
  const m = /^c(\d+)p(\d+)$/.exec(v)!;
  return { TC: Number(m[1]), TP: Number(m[2]) };
}


function source(variant: Conv2dBackwardInputVariant): KernelProgram<ConvUniform | 'tilesC' | 'tilesP' | 'perRow'> {
  const { TC, TP } = backwardInputTile(variant);
  const chans = range(TC), pix = range(TP), quads = range(TP / 4);
  // per pixel j: iw + padW = q·strideW + r (pixels past the row's end get r = strideW: never a match)
  const pixSetup = pix.map((j) => `
  let tw${j} = iw0 + ${j}u + u.padW;
  let qw${j} = i32(tw${j} / sW); let rw${j} = select(sW, tw${j} % sW, iw0 + ${j}u < W);`).join('');
  const colTest = pix.map((j) => `
      let ow${j} = qw${j} - aw; let ok${j} = rw${j} == rwa && u32(ow${j}) < OW;`).join('');
  const anyOk = pix.map((j) => `ok${j}`).join(' || ');
  const gIndex = pix.map((j) => `
      var gi${j} = select(0u, u32(grow + ow${j}), ok${j});`).join('');
  const body = quads.map((q) => `
        let gv${q} = vec4<f32>(${range(4).map((l) => `select(0.0, gy[gi${4 * q + l}], ok${4 * q + l})`).join(', ')});`).join('') + '\n' +
    chans.map((i) => `        let w${i} = w[wr${i} + wk];\n` +
      quads.map((q) => `        acc${i}_${q} = fma(vec4<f32>(w${i}), gv${q}, acc${i}_${q});`).join('\n')).join('\n');
  const store = chans.map((i) => `
  if (ct * ${TC}u + ${i}u < Cg) {
    let xo = xbase + (c0 + ${i}u) * hw;
${pix.map((j) => `    if (iw0 + ${j}u < W) { dx[xo + ${j}u] = acc${i}_${j >> 2}.${lane[j & 3]}; }`).join('\n')}
  }`).join('');
  return kernelProgram({
    key: `conv2d-backward-input:${variant}`,
    inputs: [{ name: 'gy', type: 'f32' }, { name: 'w', type: 'f32' }], outputs: [{ name: 'dx', type: 'f32' }],
    uniforms: { ...convUniforms, tilesC: 'u32', tilesP: 'u32', perRow: 'u32' },
    entry: { linear: `  let tilesP = u.tilesP; let tilesC = u.tilesC;
  if (idx >= u.groups * tilesC * tilesP) { return; }
  let pt = idx % tilesP;
  let ct = (idx / tilesP) % tilesC;
  let grp = idx / (tilesP * tilesC);
  let C = u.C; let H = u.H; let W = u.W; let O = u.O; let kH = u.kH; let kW = u.kW;
  let OH = u.OH; let OW = u.OW; let ohw = OH * OW; let hw = H * W;
  let sH = u.strideH; let sW = u.strideW;
  let Cg = u.Cg; let Og = u.Og; let KK = kH * kW;
  let tw = u.perRow;
  let iw0 = (pt % tw) * ${TP}u;
  let nh = pt / tw;
  let ih = nh % H; let n = nh / H;
  let th = ih + u.padH;
  let qh = i32(th / sH); let rh = th % sH;
  let gplane = i32((n * O + grp * Og) * ohw);
  let xbase = n * C * hw + ih * W + iw0;
  let c0 = grp * Cg + ct * ${TC}u;
  let wstep = Cg * KK;
${chans.map((i) => `  let wr${i} = grp * Og * wstep + min(ct * ${TC}u + ${i}u, Cg - 1u) * KK;`).join('\n')}
${pixSetup}
${chans.flatMap((i) => quads.map((q) => `  var acc${i}_${q} = vec4<f32>(0.0);`)).join('\n')}
  for (var kh = 0u; kh < kH; kh++) {
    let khd = kh * u.dilationH;
    let oh = qh - i32(khd / sH);
    if (khd % sH != rh || u32(oh) >= OH) { continue; }
    let grow = gplane + oh * i32(OW);
    for (var kw = 0u; kw < kW; kw++) {
      let kwd = kw * u.dilationW;
      let aw = i32(kwd / sW); let rwa = kwd % sW;${colTest}
      if (!(${anyOk})) { continue; }${gIndex}
      var wk = kh * kW + kw;
      for (var o = 0u; o < Og; o++) {${body}
        ${pix.map((j) => `gi${j} += ohw;`).join(' ')}
        wk += wstep;
      }
    }
  }${store}` },
  });
}

export const conv2dBackwardInputKernel = memoKernel(source);
