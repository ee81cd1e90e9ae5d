/**
 * conv2d forward as an implicit GEMM: out[o, pixel] = Σ_k w[o, k] · im2col(x)[k, pixel], with the im2col matrix never
 * materialised — each tap is read from x where it lies (or is zero in the padding).
 *
 * Register tiling, no workgroup memory: an invocation owns `TO` output channels × `TP` neighbouring output pixels of one
 * output row, kept in named vec4 accumulators (`acc{channel}_{pixel quad}`). One row means one (n, oh) decode per
 * invocation, and a kernel row that falls in the padding is skipped for the whole tile. The loops run kernel row, kernel column, then input channel
 * innermost, so the channel loop is only loads and fmas: the shape SwiftShader runs fastest. Padded taps read a valid
 * element and select 0, which keeps every read in bounds without a branch; pixels past the row's end are clamped on
 * load and skipped on store.
 *
 * Variants `o{TO}p{TP}`: more channels per invocation reuse each x load more (wide layers), more pixels reuse each
 * weight load more (few channels); the backend picks by shape. `padded` is specialised away for convs without padding,
 * and `oneChannel` drops the channel loop (one input channel per group, as MNIST's first layers: a loop of one
 * iteration costs SwiftShader a large share of this kernel's time there, bench/RESULTS.md, "Measurements behind design choices").
 *
 * Uniforms: the geometry (`convUniforms`: batch N, input C×H×W, output O×OH×OW, the kernel, stride, padding,
 * dilation, groups, Cg = C/groups, Og = O/groups), then tilesO the channel tiles per group, tilesP the pixel tiles
 * (N·OH·⌈OW/TP⌉), perRow the tiles per row (⌈OW/TP⌉).
 */
import { type KernelProgram, kernelProgram, lane, memoKernel, range } from './program.js';

/** The geometry every conv kernel reads (the host fills it from a Conv2dGeom). */
export const convUniforms = {
  N: 'u32', C: 'u32', H: 'u32', W: 'u32', O: 'u32', kH: 'u32', kW: 'u32', OH: 'u32', OW: 'u32', strideH: 'u32', strideW: 'u32',
  padH: 'u32', padW: 'u32', dilationH: 'u32', dilationW: 'u32', groups: 'u32', Cg: 'u32', Og: 'u32',
} as const;
export type ConvUniform = keyof typeof convUniforms;
export const conv2dVariants = ['o4p4', 'o8p4', 'o4p8', 'o8p8'] as const;
export type Conv2dVariant = (typeof conv2dVariants)[number];
export function conv2dTile(v: Conv2dVariant): { TO: number; TP: number } {
  const m = /^o(\d+)p(\d+)$/.exec(v)!;
  return { TO: Number(m[1]), TP: Number(m[2]) };
}


function conv2dSource(variant: Conv2dVariant, padded: boolean, bias: boolean, oneChannel: boolean):
  KernelProgram<ConvUniform | 'tilesO' | 'tilesP' | 'perRow'> {
  const { TO, TP } = conv2dTile(variant);
  const rows = range(TO), pix = range(TP), quads = range(TP / 4);
  const inputs = [{ name: 'x', type: 'f32' }, { name: 'w', type: 'f32' }];
  if (bias) inputs.push({ name: 'bias', type: 'f32' });
  // per pixel j: the input column of tap (·, 0), clamped to the row for the pixels past its end
  const pixSetup = pix.map((j) => `
  let iw${j} = i32(min(ow0 + ${j}u, OW - 1u) * u.strideW) - i32(u.padW);`).join('');
  const tapSetup = pix.map((j) => padded
    ? `
      let ok${j} = u32(iw${j} + kwd) < W;
      var xi${j} = select(0u, u32(rowBase + iw${j} + kwd), ok${j});`
    : `
      var xi${j} = u32(rowBase + iw${j} + kwd);`).join('');
  const load = (j: number) => (padded ? `select(0.0, x[xi${j}], ok${j})` : `x[xi${j}]`);
  const body = quads.map((q) => `
        let xv${q} = vec4<f32>(${range(4).map((l) => load(4 * q + l)).join(', ')});`).join('') + '\n' +
    rows.map((i) => `        let w${i} = w[wr${i} + wk];\n` +
      quads.map((q) => `        acc${i}_${q} = fma(vec4<f32>(w${i}), xv${q}, acc${i}_${q});`).join('\n')).join('\n');
  const store = rows.map((i) => `
  if (ot * ${TO}u + ${i}u < Og) {
    let o = o0 + ${i}u;
    let ob = obase + o * ohw;${bias ? `
    let b = bias[o];` : ''}
${pix.map((j) => `    if (ow0 + ${j}u < OW) { out[ob + ${j}u] = acc${i}_${j >> 2}.${lane[j & 3]}${bias ? ' + b' : ''}; }`).join('\n')}
  }`).join('');
  return kernelProgram({
    key: `conv2d:${variant}:${padded ? 'pad' : 'nopad'}:${bias ? 'bias' : ''}:${oneChannel ? 'c1' : ''}`,
    inputs, outputs: [{ name: 'out', type: 'f32' }],
    uniforms: { ...convUniforms, tilesO: 'u32', tilesP: 'u32', perRow: 'u32' },
    entry: { linear: `  let tilesP = u.tilesP; let tilesO = u.tilesO;
  if (idx >= u.groups * tilesO * tilesP) { return; }
  let pt = idx % tilesP;
  let ot = (idx / tilesP) % tilesO;
  let grp = idx / (tilesP * tilesO);
  let C = u.C; let H = u.H; let W = u.W; let O = u.O; let kH = u.kH; let kW = u.kW;
  let OH = u.OH; let OW = u.OW; let ohw = OH * OW; let hw = H * W;
  let Cg = u.Cg; let Og = u.Og; let KK = kH * kW;
  // which row of which image, and where in it
  let tw = u.perRow;
  let ow0 = (pt % tw) * ${TP}u;
  let nh = pt / tw;
  let oh = nh % OH; let n = nh / OH;
  let ih0 = i32(oh * u.strideH) - i32(u.padH);
  let xplane = i32((n * C + grp * Cg) * hw);
  let obase = n * O * ohw + oh * OW + ow0;
  let o0 = grp * Og + ot * ${TO}u;
${rows.map((i) => `  let wr${i} = min(o0 + ${i}u, grp * Og + Og - 1u) * Cg * KK;`).join('\n')}
${pixSetup}
${rows.flatMap((i) => quads.map((q) => `  var acc${i}_${q} = vec4<f32>(0.0);`)).join('\n')}
  for (var kh = 0u; kh < kH; kh++) {
    let ih = ih0 + i32(kh * u.dilationH);
${padded ? `    if (u32(ih) >= H) { continue; } // a padding row: nothing to add, for the whole tile
` : ''}    let rowBase = xplane + ih * i32(W);
    for (var kw = 0u; kw < kW; kw++) {
      let kwd = i32(kw * u.dilationW);${tapSetup}
      var wk = kh * kW + kw;
      ${oneChannel ? '{' : 'for (var c = 0u; c < Cg; c++) {'}${body}
        ${pix.map((j) => `xi${j} += hw;`).join(' ')}
        wk += KK;
      }
    }
  }${store}` },
  });
}

export const conv2dKernel = memoKernel(conv2dSource);
