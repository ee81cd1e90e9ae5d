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
 * iteration costs SwiftShader about a third of this kernel's time there).
 *
 * Parameters: 0 N, 1 C, 2 H, 3 W, 4 O, 5 kH, 6 kW, 7 outH, 8 outW, 9 strideH, 10 strideW, 11 padH, 12 padW,
 * 13 dilationH, 14 dilationW, 15 groups, 16 C/groups, 17 O/groups, 18 channel tiles per group, 19 pixel tiles
 * (N·outH·⌈outW/TP⌉), 20 tiles per row (⌈outW/TP⌉).
 */
import { type KernelSpec, bindings, main1d, memoKernel, paramsWgsl } from './common.js';

export const WG = 64;
export const conv2dVariants = ['o4p4', 'o8p4', 'o4p8', 'o8p8'] as const;
export type Conv2dVariant = (typeof conv2dVariants)[number];
export function conv2dTile(v: Conv2dVariant): { TO: number; TP: number } {
  const m = /^o(\d+)p(\d+)$/.exec(v)!;
  return { TO: Number(m[1]), TP: Number(m[2]) };
}

const range = (n: number) => [...Array(n).keys()];
const lane = ['x', 'y', 'z', 'w'];

function conv2dSource(variant: Conv2dVariant, padded: boolean, bias: boolean, oneChannel: boolean): KernelSpec {
  const { TO, TP } = conv2dTile(variant);
  const rows = range(TO), pix = range(TP), quads = range(TP / 4);
  const inputs = [{ name: 'x', type: 'f32' }, { name: 'w', type: 'f32' }];
  if (bias) inputs.push({ name: 'bias', type: 'f32' });
  // per pixel j: the input column of tap (·, 0), clamped to the row for the pixels past its end
  const pixSetup = pix.map((j) => `
  let iw${j} = i32(min(ow0 + ${j}u, OW - 1u) * P(10u)) - i32(P(12u));`).join('');
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
  return {
    key: `conv2d:${variant}:${padded ? 'pad' : 'nopad'}:${bias ? 'bias' : ''}:${oneChannel ? 'c1' : ''}`,
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
  let OH = P(7u); let OW = P(8u); let ohw = OH * OW; let hw = H * W;
  let Cg = P(16u); let Og = P(17u); let KK = kH * kW;
  // which row of which image, and where in it
  let tw = P(20u);
  let ow0 = (pt % tw) * ${TP}u;
  let nh = pt / tw;
  let oh = nh % OH; let n = nh / OH;
  let ih0 = i32(oh * P(9u)) - i32(P(11u));
  let xplane = i32((n * C + grp * Cg) * hw);
  let obase = n * O * ohw + oh * OW + ow0;
  let o0 = grp * Og + ot * ${TO}u;
${rows.map((i) => `  let wr${i} = min(o0 + ${i}u, grp * Og + Og - 1u) * Cg * KK;`).join('\n')}
${pixSetup}
${rows.flatMap((i) => quads.map((q) => `  var acc${i}_${q} = vec4<f32>(0.0);`)).join('\n')}
  for (var kh = 0u; kh < kH; kh++) {
    let ih = ih0 + i32(kh * P(13u));
${padded ? `    if (u32(ih) >= H) { continue; } // a padding row: nothing to add, for the whole tile
` : ''}    let rowBase = xplane + ih * i32(W);
    for (var kw = 0u; kw < kW; kw++) {
      let kwd = i32(kw * P(14u));${tapSetup}
      var wk = kh * kW + kw;
      ${oneChannel ? '{' : 'for (var c = 0u; c < Cg; c++) {'}${body}
        ${pix.map((j) => `xi${j} += hw;`).join(' ')}
        wk += KK;
      }
    }
  }${store}
}`,
  };
}

export const conv2dKernel = memoKernel(conv2dSource);
