/**
 * conv2d's weight gradient as a GEMM: dw[o, (c, kh, kw)] = Σ over (n, oh, ow) of gy[n, o, oh, ow] · x at that tap.
 * Its output is small (a few thousand weights) and its K — batch × output pixels — is long, so K is split into `S`
 * chunks across invocations (each writes its partial tile to `partial[s]`) and the backend sums the S partials with the
 * reduce kernel. No atomics, and the result does not depend on timing.
 *
 * An invocation owns 4 output channels × 4 weight columns (named vec4 accumulators, one per column, over the 4
 * channels) and walks its chunk of pixels with incremental (n, oh, ow) counters — no division in the loop.
 *
 * Uniforms: conv2d.ts's geometry, then tilesO the channel tiles per group (⌈(O/groups)/4⌉), tilesC the column tiles
 * (⌈(C/groups)·kH·kW/4⌉), pixels (N·OH·OW), chunk the pixels per chunk, splits the chunks S, weights
 * (O·(C/groups)·kH·kW, a partial's stride).
 */
import { type ConvUniform, convUniforms } from './conv2d.js';
import { type KernelProgram, kernelProgram, memoKernel, range } from './program.js';

type Uniform = ConvUniform | 'tilesO' | 'tilesC' | 'pixels' | 'chunk' | 'splits' | 'weights';

function source(padded: boolean): KernelProgram<Uniform> {
  const cols = range(4).map((j) => `
  let col${j} = min(ct * 4u + ${j}u, CKK - 1u);
  let khd${j} = i32(((col${j} % KK) / kW) * u.dilationH);
  let kwd${j} = i32((col${j} % kW) * u.dilationW);
  let coff${j} = i32((cg0 + col${j} / KK) * hw) + khd${j} * i32(W) + kwd${j};`).join('');
  const loadX = range(4).map((j) => padded
    ? `
    let ok${j} = u32(ih + khd${j}) < H && u32(iw + kwd${j}) < W;
    let x${j} = select(0.0, x[select(0u, u32(xbase + coff${j}), ok${j})], ok${j});`
    : `
    let x${j} = x[u32(xbase + coff${j})];`).join('');
  const store = range(4).map((i) => `
  if (ot * 4u + ${i}u < Og) {
    let base = s * u.weights + (o0 + ${i}u) * CKK + ct * 4u;
    partial[base] = acc0[${i}];
    if (ct * 4u + 1u < CKK) { partial[base + 1u] = acc1[${i}]; }
    if (ct * 4u + 2u < CKK) { partial[base + 2u] = acc2[${i}]; }
    if (ct * 4u + 3u < CKK) { partial[base + 3u] = acc3[${i}]; }
  }`).join('');
  return kernelProgram({
    key: `conv2d-backward-weight:${padded ? 'pad' : 'nopad'}`,
    inputs: [{ name: 'x', type: 'f32' }, { name: 'gy', type: 'f32' }], outputs: [{ name: 'partial', type: 'f32' }],
    uniforms: { ...convUniforms, tilesO: 'u32', tilesC: 'u32', pixels: 'u32', chunk: 'u32', splits: 'u32', weights: 'u32' },
    entry: { linear: `  let tilesC = u.tilesC; let tilesO = u.tilesO; let groups = u.groups;
  if (idx >= u.splits * groups * tilesO * tilesC) { return; }
  let ct = idx % tilesC;
  let ot = (idx / tilesC) % tilesO;
  let grp = (idx / (tilesC * tilesO)) % groups;
  let s = idx / (tilesC * tilesO * groups);
  let C = u.C; let H = u.H; let W = u.W; let O = u.O; let kH = u.kH; let kW = u.kW;
  let OH = u.OH; let OW = u.OW; let ohw = OH * OW; let hw = H * W;
  let sH = u.strideH; let sW = u.strideW; let pH = i32(u.padH); let pW = i32(u.padW);
  let Cg = u.Cg; let Og = u.Og; let KK = kH * kW; let CKK = Cg * KK;
  let cg0 = grp * Cg;
  let o0 = grp * Og + ot * 4u;
${range(4).map((i) => `  let go${i} = min(o0 + ${i}u, grp * Og + Og - 1u) * ohw;`).join('\n')}
${cols}
  let k0 = s * u.chunk;
  let k1 = min(k0 + u.chunk, u.pixels);
  var n = k0 / ohw; let r = k0 % ohw;
  var oh = r / OW; var ow = r % OW;
${range(4).map((j) => `  var acc${j} = vec4<f32>(0.0);`).join('\n')}
  for (var k = k0; k < k1; k++) {
    let gb = n * O * ohw + oh * OW + ow;
    let gv = vec4<f32>(gy[gb + go0], gy[gb + go1], gy[gb + go2], gy[gb + go3]);
    let ih = i32(oh * sH) - pH; let iw = i32(ow * sW) - pW;
    let xbase = i32(n * C * hw) + ih * i32(W) + iw;${loadX}
${range(4).map((j) => `    acc${j} = fma(gv, vec4<f32>(x${j}), acc${j});`).join('\n')}
    ow++;
    if (ow == OW) { ow = 0u; oh++; if (oh == OH) { oh = 0u; n++; } }
  }${store}` },
  });
}

export const conv2dBackwardWeightKernel = memoKernel(source);
