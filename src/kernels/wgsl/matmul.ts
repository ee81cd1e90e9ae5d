/**
 * Batched matmul C[b] = A[b] · B[b] with arbitrary strides (transposes and broadcast batches are free), and an optional
 * epilogue (+ bias[n], then ReLU). Two families, chosen by the backend (see webgpu/matmul.ts):
 *
 * 'reg' — register tiling straight from storage, no workgroup memory, no barriers: the fastest shape on SwiftShader.
 *   An invocation computes a 4×4 or 8×8 block of C in named vec4 accumulators (`c{row}_{column quad}`); 8×8 runs
 *   faster on SwiftShader (each load feeds twice the fmas, and 16 accumulators still beat the extra loads; the
 *   numbers: bench/RESULTS.md, "Measurements behind design choices"). Each operand is read in the widest way its layout allows (its `mode`):
 *     A: 'k4' rows contiguous along k (vec4 of 4 k's per row; k unrolled by 4) · 'm4' columns contiguous along m
 *        (vec4 of 4 rows per k) · 's' scalar reads through the strides;
 *     B: 'n4' rows contiguous along n (vec4 of 4 columns per k) · 'k4' columns contiguous along k · 's' scalar.
 *   Vector modes need 16-byte alignment (offset and the other stride multiples of 4) and, along their own axis, a
 *   length that is a multiple of 4; the host checks. Out-of-range rows/columns are clamped on load, skipped on store.
 * 'wg' — workgroup-memory tiles for real GPUs: a 64×64 block of C per 256-invocation workgroup (4×4 per invocation),
 *   16-deep slices of A and B staged through workgroup memory.
 *
 * Split-K (both families): invocation group s sums k in [s·chunk, min((s+1)·chunk, K)) and writes its partial C at
 * s·batch·M·N; the backend adds the partials (the epilogue is then applied after the sum, by the backend).
 *
 * Uniforms (`matmulUniforms`): batch, M, K, N; A's offset and batch, m and k strides; B's offset and batch, k and n
 * strides; the tiles along N and M; chunk the k per split, splits; biasBatch the elements between the biases of
 * consecutive batch entries (0: one bias for all).
 */
import { type KernelProgram, kernelProgram, lane, memoKernel, range } from './program.js';

const uniforms = {
  batch: 'u32', M: 'u32', K: 'u32', N: 'u32', aOffset: 'u32', aBatch: 'u32', aM: 'u32', aK: 'u32',
  bOffset: 'u32', bBatch: 'u32', bK: 'u32', bN: 'u32', tilesN: 'u32', tilesM: 'u32', chunk: 'u32', splits: 'u32', biasBatch: 'u32',
} as const;
export type MatmulUniform = keyof typeof uniforms;
export type ModeA = 'k4' | 'm4' | 's';
export type ModeB = 'n4' | 'k4' | 's';

const R = range(4);

/** Register-tile sizes: `rows` of C × 4·`quads` columns per invocation. */
export type RegTile = '4x4' | '8x8' | '4x8' | '8x4' | '4x12' | '8x12' | '4x16';
export const regTileSize = (t: RegTile) => { const [r, c] = t.split('x').map(Number); return { RM: r, CQ: c / 4 }; };

/**
 * WGSL for one k step `q` (0..3 when k is unrolled by 4, else 0) at k index `k`: declares the A values `a{i}_{q}` (or
 * reads them from vectors loaded at q = 0) and the B row slices `b{q}_{cq}` (vec4 over 4 columns), then the fmas.
 */
function loadStep(ma: ModeA, mb: ModeB, RM: number, CQ: number, q: number, kExpr: string): string {
  const k = `(${kExpr})`;
  const lines: string[] = [];
  const rows = range(RM), quads = range(CQ);
  if (ma === 'k4') { if (q === 0) lines.push(...rows.map((i) => `    let ar${i} = a4[(arow${i} + ${k}) >> 2u];`)); }
  else if (ma === 'm4') lines.push(...range(RM / 4).map((r) => `    let ac${r}_${q} = a4[(acol${r} + ${k} * sak) >> 2u];`));
  else lines.push(...rows.map((i) => `    let a${i}_${q} = a[arow${i} + ${k} * sak];`));
  if (mb === 'n4') lines.push(...quads.map((c) => `    let b${q}_${c} = b4[(bcol${c} + ${k} * sbk) >> 2u];`));
  else if (mb === 'k4') {
    if (q === 0) lines.push(...range(4 * CQ).map((j) => `    let bc${j} = b4[(bcol${j} + ${k}) >> 2u];`));
    lines.push(...quads.map((c) => `    let b${q}_${c} = vec4<f32>(${R.map((l) => `bc${4 * c + l}.${lane[q]}`).join(', ')});`));
  } else {
    lines.push(...quads.map((c) => `    let b${q}_${c} = vec4<f32>(${R.map((l) => `b[bcol${4 * c + l} + ${k} * sbk]`).join(', ')});`));
  }
  const aval = (i: number) => (ma === 'k4' ? `ar${i}.${lane[q]}` : ma === 'm4' ? `ac${i >> 2}_${q}.${lane[i & 3]}` : `a${i}_${q}`);
  for (const i of rows) for (const c of quads) lines.push(`    c${i}_${c} = fma(vec4<f32>(${aval(i)}), b${q}_${c}, c${i}_${c});`);
  return lines.join('\n');
}

function epilogue(bias: boolean, relu: boolean, v: string, j: string): string {
  let e = v;
  if (bias) e = `(${e} + bias[bbias + ${j}])`;
  if (relu) e = `max(${e}, 0.0)`;
  return e;
}

function regSource(tile: RegTile, ma: ModeA, mb: ModeB, bias: boolean, relu: boolean): KernelProgram<MatmulUniform> {
  const { RM, CQ } = regTileSize(tile);
  const CN = 4 * CQ;
  const rows = range(RM), quads = range(CQ);
  // k is unrolled by 4 when an operand is read as vec4 along k (the host guarantees K % 4 == 0 then), else stepped by 1
  const kStep = ma === 'k4' || mb === 'k4' ? 4 : 1;
  const inputs = [
    { name: ma === 's' ? 'a' : 'a4', type: ma === 's' ? 'f32' : 'vec4<f32>' },
    { name: mb === 's' ? 'b' : 'b4', type: mb === 's' ? 'f32' : 'vec4<f32>' },
  ];
  if (bias) inputs.push({ name: 'bias', type: 'f32' });
  const body = range(kStep).map((q) => loadStep(ma, mb, RM, CQ, q, kStep > 1 ? `k + ${q}u` : 'k')).join('\n');
  const store = rows.map((i) => `
  if (i0 + ${i}u < M) {
    let o = cbase + (i0 + ${i}u) * N + j0;
${range(CN).map((j) => `    ${j ? `if (j0 + ${j}u < N) { ` : ''}out[o${j ? ` + ${j}u` : ''}] = ${epilogue(bias, relu, `c${i}_${j >> 2}.${lane[j & 3]}`, `j0 + ${j}u`)};${j ? ' }' : ''}`).join('\n')}
  }`).join('');
  return kernelProgram({
    key: `matmul:reg${tile}:${ma}:${mb}:${bias ? 'bias' : ''}:${relu ? 'relu' : ''}`,
    inputs, outputs: [{ name: 'out', type: 'f32' }], uniforms,
    entry: { linear: `  let M = u.M; let K = u.K; let N = u.N;
  let tn = u.tilesN; let tm = u.tilesM;
  let tiles = tn * tm;
  let perSplit = u.batch * tiles;
  if (idx >= perSplit * u.splits) { return; }
  let split = idx / perSplit;
  let rest = idx % perSplit;
  let bt = rest / tiles;
  let t = rest % tiles;
  let i0 = (t / tn) * ${RM}u;
  let j0 = (t % tn) * ${CN}u;
  let k0 = split * u.chunk;
  let k1 = min(k0 + u.chunk, K);
  let sam = u.aM; let sak = u.aK; let sbk = u.bK; let sbn = u.bN;
  let abase = u.aOffset + bt * u.aBatch;
  let bbase = u.bOffset + bt * u.bBatch;
${ma === 'm4'
    ? range(RM / 4).map((r) => `  let acol${r} = abase + min(i0 + ${4 * r}u, M - 4u);`).join('\n')
    : rows.map((i) => `  let arow${i} = abase + min(i0 + ${i}u, M - 1u) * sam;`).join('\n')}
${mb === 'n4'
    ? quads.map((c) => `  let bcol${c} = bbase + min(j0 + ${4 * c}u, N - 4u);`).join('\n')
    : range(CN).map((j) => `  let bcol${j} = bbase + min(j0 + ${j}u, N - 1u) * sbn;`).join('\n')}
${rows.flatMap((i) => quads.map((c) => `  var c${i}_${c} = vec4<f32>(0.0);`)).join('\n')}
  for (var k = k0; k < k1; k += ${kStep}u) {
${body}
  }
  let cbase = (split * u.batch + bt) * M * N;${bias ? '\n  let bbias = bt * u.biasBatch;' : ''}${store}` },
  });
}

/** 'wg': a 64×64 block of C per workgroup of 16×16 invocations, each 4×4, through 16-deep workgroup-memory slices. */
function wgSource(bias: boolean, relu: boolean): KernelProgram<MatmulUniform> {
  const inputs = [{ name: 'a', type: 'f32' }, { name: 'b', type: 'f32' }];
  if (bias) inputs.push({ name: 'bias', type: 'f32' });
  const store = R.map((i) => `
  if (i0 + ${i}u < M) {
    let o = cbase + (i0 + ${i}u) * N + j0;
${R.map((j) => `    if (j0 + ${j}u < N) { out[o + ${j}u] = ${epilogue(bias, relu, `c${i}.${lane[j]}`, `j0 + ${j}u`)}; }`).join('\n')}
  }`).join('');
  return kernelProgram({
    key: `matmul:wg:${bias ? 'bias' : ''}:${relu ? 'relu' : ''}`,
    inputs, outputs: [{ name: 'out', type: 'f32' }], uniforms,
    workgroupSize: 256,
    entry: {
      dispatch: 'workgroup',
      custom: (wg) => `var<workgroup> As: array<vec4<f32>, 256>; // [16 k][16 row quads]: As[k*16 + r] = A[4r..4r+3, k]
var<workgroup> Bs: array<vec4<f32>, 256>; // [16 k][16 col quads]
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) l: u32) {
  let M = u.M; let K = u.K; let N = u.N;
  let tn = u.tilesN; let tm = u.tilesM;
  let tiles = tn * tm;
  let perSplit = u.batch * tiles;
  let g = wid.y * nwg.x + wid.x;
  // a workgroup past the end still joins every barrier; it just stores nothing
  let live = g < perSplit * u.splits;
  let gg = min(g, perSplit * u.splits - 1u);
  let split = gg / perSplit;
  let rest = gg % perSplit;
  let bt = rest / tiles;
  let t = rest % tiles;
  let tr = l / 16u; let tc = l % 16u;
  let row0 = (t / tn) * 64u; let col0 = (t % tn) * 64u;
  let i0 = row0 + tr * 4u; let j0 = col0 + tc * 4u;
  let k0 = split * u.chunk;
  let k1 = min(k0 + u.chunk, K);
  let sam = u.aM; let sak = u.aK; let sbk = u.bK; let sbn = u.bN;
  let abase = u.aOffset + bt * u.aBatch;
  let bbase = u.bOffset + bt * u.bBatch;
  // staging: invocation l loads row quad (l % 16) of k-slot (l / 16) for A, and column quad (l % 16) for B
  let lk = l / 16u; let lq = l % 16u;
${R.map((i) => `  var c${i} = vec4<f32>(0.0);`).join('\n')}
  for (var kt = k0; kt < k1; kt += 16u) {
    let k = kt + lk;
    let kin = k < k1;
    var av = vec4<f32>(0.0);
    var bv = vec4<f32>(0.0);
    if (kin) {
${R.map((r) => `      let ar${r} = row0 + lq * 4u + ${r}u;
      if (ar${r} < M) { av.${lane[r]} = a[abase + ar${r} * sam + k * sak]; }
      let bc${r} = col0 + lq * 4u + ${r}u;
      if (bc${r} < N) { bv.${lane[r]} = b[bbase + k * sbk + bc${r} * sbn]; }`).join('\n')}
    }
    As[l] = av;
    Bs[l] = bv;
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let av4 = As[kk * 16u + tr];
      let bv4 = Bs[kk * 16u + tc];
${R.map((i) => `      c${i} = fma(vec4<f32>(av4.${lane[i]}), bv4, c${i});`).join('\n')}
    }
    workgroupBarrier();
  }
  if (!live) { return; }
  let cbase = (split * u.batch + bt) * M * N;${bias ? '\n  let bbias = bt * u.biasBatch;' : ''}${store}
}`,
    },
  });
}

export const matmulRegKernel = memoKernel(regSource);
export const matmulWgKernel = memoKernel(wgSource);
