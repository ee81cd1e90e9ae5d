/**
 * Batched matmul C[b] = A[b] · B[b] with arbitrary strides (transposes and broadcast batches are free), and an optional
 * epilogue (+ bias[n], then ReLU). Two families, chosen by the backend (see webgpu/matmul.ts):
 *
 * 'reg' — register tiling straight from storage, no workgroup memory, no barriers: the fastest shape on SwiftShader.
 *   An invocation computes a 4×4 block of C in four named vec4 accumulators, k unrolled by 4. Each operand is read
 *   in the widest way its layout allows (its `mode`):
 *     A: 'k4' rows contiguous along k (vec4 of 4 k's per row) · 'm4' columns contiguous along m (vec4 of 4 rows per
 *        k) · 's' scalar reads through the strides;
 *     B: 'n4' rows contiguous along n (vec4 of 4 columns per k) · 'k4' columns contiguous along k · 's' scalar.
 *   Vector modes need 16-byte alignment (offset and the other stride multiples of 4) and, along their own axis, a
 *   length that is a multiple of 4; the host checks. Out-of-range rows/columns are clamped on load, skipped on store.
 * 'wg' — workgroup-memory tiles for real GPUs: a 64×64 block of C per 256-invocation workgroup (4×4 per invocation),
 *   16-deep slices of A and B staged through workgroup memory.
 *
 * Split-K (both families): invocation group s sums k in [s·chunk, min((s+1)·chunk, K)) and writes its partial C at
 * s·batch·M·N; the backend adds the partials (the epilogue is then applied after the sum, by the backend).
 *
 * Parameters: 0 batch, 1 M, 2 K, 3 N, 4..7 A offset, batch stride, m-stride, k-stride, 8..11 B offset, batch stride,
 * k-stride, n-stride, 12 tiles along N, 13 tiles along M, 14 k per split (chunk), 15 splits.
 */
import { type KernelSpec, bindings, main1d, memoKernel, paramsWgsl } from './common.js';

export const WG = 64;
export type ModeA = 'k4' | 'm4' | 's';
export type ModeB = 'n4' | 'k4' | 's';

const R = [0, 1, 2, 3];
const lane = ['x', 'y', 'z', 'w'];

/** WGSL for one k step of `q` (0..3) at k index `k`: the A values as `a{i}_{q}` scalars and B as `b_{q}` vec4. */
function loadStep(ma: ModeA, mb: ModeB, q: number, kExpr: string, vecK: boolean): string {
  const k = `(${kExpr})`;
  const lines: string[] = [];
  // A
  if (ma === 'k4') {
    if (vecK) { if (q === 0) lines.push(...R.map((i) => `    let ar${i} = a4[(arow${i} + ${k}) >> 2u];`)); }
    else lines.push(...R.map((i) => `    let ar${i}_${q} = a[arow${i} + ${k}];`));
  } else if (ma === 'm4') lines.push(`    let ac${q} = a4[(acol + ${k} * sak) >> 2u];`);
  else lines.push(...R.map((i) => `    let ar${i}_${q} = a[arow${i} + ${k} * sak];`));
  // B
  if (mb === 'n4') lines.push(`    let b_${q} = b4[(bcol + ${k} * sbk) >> 2u];`);
  else if (mb === 'k4') {
    if (vecK) {
      if (q === 0) lines.push(...R.map((j) => `    let bc${j} = b4[(bcol${j} + ${k}) >> 2u];`));
      lines.push(`    let b_${q} = vec4<f32>(bc0.${lane[q]}, bc1.${lane[q]}, bc2.${lane[q]}, bc3.${lane[q]});`);
    } else lines.push(`    let b_${q} = vec4<f32>(b[bcol0 + ${k}], b[bcol1 + ${k}], b[bcol2 + ${k}], b[bcol3 + ${k}]);`);
  } else lines.push(`    let b_${q} = vec4<f32>(b[bcol0 + ${k} * sbk], b[bcol1 + ${k} * sbk], b[bcol2 + ${k} * sbk], b[bcol3 + ${k} * sbk]);`);
  const aval = (i: number) => (ma === 'k4' && vecK ? `ar${i}.${lane[q]}` : ma === 'm4' ? `ac${q}.${lane[i]}` : `ar${i}_${q}`);
  lines.push(...R.map((i) => `    c${i} = fma(vec4<f32>(${aval(i)}), b_${q}, c${i});`));
  return lines.join('\n');
}

function epilogue(bias: boolean, relu: boolean, v: string, j: string): string {
  let e = v;
  if (bias) e = `(${e} + bias[${j}])`;
  if (relu) e = `max(${e}, 0.0)`;
  return e;
}

function regSource(ma: ModeA, mb: ModeB, bias: boolean, relu: boolean): KernelSpec {
  // k-vector modes step k by 4 with no tail (the host guarantees K % 4 == 0 for them); otherwise a tail loop follows
  const kVec = ma === 'k4' || mb === 'k4';
  const inputs = [
    { name: ma === 's' ? 'a' : 'a4', type: ma === 's' ? 'f32' : 'vec4<f32>' },
    { name: mb === 's' ? 'b' : 'b4', type: mb === 's' ? 'f32' : 'vec4<f32>' },
  ];
  // k4 modes with a scalar tail are never needed: K % 4 == 0 there. Scalar modes still read `a`/`b` in the tail.
  if (bias) inputs.push({ name: 'bias', type: 'f32' });
  const body4 = R.map((q) => loadStep(ma, mb, q, `k + ${q}u`, kVec)).join('\n');
  const tail = kVec ? '' : `
  for (var k = k4end; k < k1; k++) {
${loadStep(ma === 'm4' ? 'm4' : 's', mb === 'n4' ? 'n4' : 's', 0, 'k', false)}
  }`;
  const store = R.map((i) => `
  if (i0 + ${i}u < M) {
    let o = cbase + (i0 + ${i}u) * N + j0;
${R.map((j) => `    ${j ? `if (j0 + ${j}u < N) { ` : ''}out[o${j ? ` + ${j}u` : ''}] = ${epilogue(bias, relu, `c${i}.${lane[j]}`, `j0 + ${j}u`)};${j ? ' }' : ''}`).join('\n')}
  }`).join('');
  return {
    key: `matmul:reg:${ma}:${mb}:${bias ? 'bias' : ''}:${relu ? 'relu' : ''}`,
    inputs: inputs.length,
    outputs: 1,
    source: `${paramsWgsl}
${bindings(inputs, [{ name: 'out', type: 'f32' }])}
${main1d(WG)}
  let M = P(1u); let K = P(2u); let N = P(3u);
  let tn = P(12u); let tm = P(13u);
  let tiles = tn * tm;
  let perSplit = P(0u) * tiles;
  if (idx >= perSplit * P(15u)) { return; }
  let split = idx / perSplit;
  let rest = idx % perSplit;
  let bt = rest / tiles;
  let t = rest % tiles;
  let i0 = (t / tn) * 4u;
  let j0 = (t % tn) * 4u;
  let k0 = split * P(14u);
  let k1 = min(k0 + P(14u), K);
  let k4end = k0 + ((k1 - k0) & ~3u);
  let sam = P(6u); let sak = P(7u); let sbk = P(10u); let sbn = P(11u);
  let abase = P(4u) + bt * P(5u);
  let bbase = P(8u) + bt * P(9u);
${R.map((i) => `  let arow${i} = abase + min(i0 + ${i}u, M - 1u) * sam;`).join('\n')}
  let acol = abase + i0;
${R.map((j) => `  let bcol${j} = bbase + min(j0 + ${j}u, N - 1u) * sbn;`).join('\n')}
  let bcol = bbase + j0;
${R.map((i) => `  var c${i} = vec4<f32>(0.0);`).join('\n')}
  for (var k = k0; k < k4end; k += 4u) {
${body4}
  }${tail}
  let cbase = (split * P(0u) + bt) * M * N;${store}
}`,
  };
}

/** 'wg': a 64×64 block of C per workgroup of 16×16 invocations, each 4×4, through 16-deep workgroup-memory slices. */
function wgSource(bias: boolean, relu: boolean): KernelSpec {
  const inputs = [{ name: 'a', type: 'f32' }, { name: 'b', type: 'f32' }];
  if (bias) inputs.push({ name: 'bias', type: 'f32' });
  const store = R.map((i) => `
  if (i0 + ${i}u < M) {
    let o = cbase + (i0 + ${i}u) * N + j0;
${R.map((j) => `    if (j0 + ${j}u < N) { out[o + ${j}u] = ${epilogue(bias, relu, `c${i}.${lane[j]}`, `j0 + ${j}u`)}; }`).join('\n')}
  }`).join('');
  return {
    key: `matmul:wg:${bias ? 'bias' : ''}:${relu ? 'relu' : ''}`,
    inputs: inputs.length,
    outputs: 1,
    source: `${paramsWgsl}
${bindings(inputs, [{ name: 'out', type: 'f32' }])}
var<workgroup> As: array<vec4<f32>, 256>; // [16 k][16 row quads]: As[k*16 + r] = A[4r..4r+3, k]
var<workgroup> Bs: array<vec4<f32>, 256>; // [16 k][16 col quads]
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) l: u32) {
  let M = P(1u); let K = P(2u); let N = P(3u);
  let tn = P(12u); let tm = P(13u);
  let tiles = tn * tm;
  let perSplit = P(0u) * tiles;
  let g = wid.y * nwg.x + wid.x;
  // a workgroup past the end still joins every barrier; it just stores nothing
  let live = g < perSplit * P(15u);
  let gg = min(g, perSplit * P(15u) - 1u);
  let split = gg / perSplit;
  let rest = gg % perSplit;
  let bt = rest / tiles;
  let t = rest % tiles;
  let tr = l / 16u; let tc = l % 16u;
  let row0 = (t / tn) * 64u; let col0 = (t % tn) * 64u;
  let i0 = row0 + tr * 4u; let j0 = col0 + tc * 4u;
  let k0 = split * P(14u);
  let k1 = min(k0 + P(14u), K);
  let sam = P(6u); let sak = P(7u); let sbk = P(10u); let sbn = P(11u);
  let abase = P(4u) + bt * P(5u);
  let bbase = P(8u) + bt * P(9u);
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
  let cbase = (split * P(0u) + bt) * M * N;${store}
}`,
  };
}

export const matmulRegKernel = memoKernel(regSource);
export const matmulWgKernel = memoKernel(wgSource);
