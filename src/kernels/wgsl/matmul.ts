/**
 * Batched matmul C[b] = A[b] · B[b] with arbitrary strides (transposes and broadcast batches are free).
 * Register tiling straight from storage: each invocation computes a 4×4 block of C with sixteen named accumulators,
 * no workgroup memory and no barriers — the fastest shape for SwiftShader's 4-wide JIT (see WEBGPU-NOTES.md).
 * Out-of-range rows/columns are clamped on load and skipped on store.
 * Parameters: 0 = batch, 1 = M, 2 = K, 3 = N, 4..6 = A offset, batch stride, row stride, 7 = A k-stride,
 *             8..10 = B offset, batch stride, k-stride, 11 = B column stride, 12 = tiles along N, 13 = tiles along M.
 */
import { type KernelSpec, bindings, main1d, paramsWgsl, memoKernel } from './common.js';

export const WG = 64;
export const TILE = 4;

const rows = [0, 1, 2, 3];

function matmulKernelSource(): KernelSpec {
  const acc = rows.map((i) => `  var c${i} = vec4<f32>(0.0);`).join('\n');
  const loadA = rows.map((i) => `    let a${i} = a[arow${i} + k * sak];`).join('\n');
  const fma = rows.map((i) => `    c${i} = fma(vec4<f32>(a${i}), bk, c${i});`).join('\n');
  const store = rows.map((i) => `
  if (i0 + ${i}u < M) {
    let o = cbase + (i0 + ${i}u) * N;
    out[o + j0] = c${i}.x;
    if (j0 + 1u < N) { out[o + j0 + 1u] = c${i}.y; }
    if (j0 + 2u < N) { out[o + j0 + 2u] = c${i}.z; }
    if (j0 + 3u < N) { out[o + j0 + 3u] = c${i}.w; }
  }`).join('');
  return {
    key: 'matmul:regtile4x4',
    inputs: 2,
    outputs: 1,
    source: `${paramsWgsl}
${bindings([{ name: 'a', type: 'f32' }, { name: 'b', type: 'f32' }], [{ name: 'out', type: 'f32' }])}
${main1d(WG)}
  let M = P(1u); let K = P(2u); let N = P(3u);
  let tn = P(12u); let tm = P(13u);
  let tiles = tn * tm;
  if (idx >= P(0u) * tiles) { return; }
  let bt = idx / tiles;
  let t = idx % tiles;
  let i0 = (t / tn) * 4u;
  let j0 = (t % tn) * 4u;
  let sak = P(7u); let sbk = P(10u); let sbn = P(11u);
  let abase = P(4u) + bt * P(5u);
  let sam = P(6u);
  let arow0 = abase + min(i0, M - 1u) * sam;
  let arow1 = abase + min(i0 + 1u, M - 1u) * sam;
  let arow2 = abase + min(i0 + 2u, M - 1u) * sam;
  let arow3 = abase + min(i0 + 3u, M - 1u) * sam;
  let bbase = P(8u) + bt * P(9u);
  let bc0 = bbase + min(j0, N - 1u) * sbn;
  let bc1 = bbase + min(j0 + 1u, N - 1u) * sbn;
  let bc2 = bbase + min(j0 + 2u, N - 1u) * sbn;
  let bc3 = bbase + min(j0 + 3u, N - 1u) * sbn;
${acc}
  for (var k = 0u; k < K; k++) {
    let kb = k * sbk;
    let bk = vec4<f32>(b[bc0 + kb], b[bc1 + kb], b[bc2 + kb], b[bc3 + kb]);
${loadA}
${fma}
  }
  let cbase = bt * M * N;${store}
}`,
  };
}

export const matmulKernel = memoKernel(matmulKernelSource);
