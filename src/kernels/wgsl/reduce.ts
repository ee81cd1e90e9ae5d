/**
 * Reductions of the middle axis of a contiguous [outer, R, inner] layout into [outer, inner].
 * Two variants, chosen by shape on the host:
 * - 'thread': one invocation per output walks R with stride `inner` — many outputs, or short R.
 * - 'group': one 64-wide workgroup per output, a strided partial per invocation, then a tree in workgroup memory —
 *   few outputs with long R (a full sum, a bias gradient over a big batch).
 * NaN wins in max/min (as PyTorch); argmax/argmin keep the first extreme.
 * Parameters: 0 = outputs (outer·inner), 1 = R, 2 = inner.
 */
import type { ReduceOp } from '../backend.js';
import { type KernelSpec, type WgslType, bindings, main1d, paramsWgsl, memoKernel } from './common.js';

export const WG = 64;
export type ReduceVariant = 'thread' | 'group';

function ops(op: ReduceOp, t: WgslType) {
  const inf = t === 'f32' ? 'f32_inf()' : '2147483647';
  const ninf = t === 'f32' ? '-f32_inf()' : '(-2147483647 - 1)';
  const nanCheck = t === 'f32';
  switch (op) {
    case 'sum': return { init: t === 'f32' ? '0.0' : '0', better: '', isArg: false };
    case 'max': case 'argmax':
      return { init: ninf, better: nanCheck ? '(v > acc || (is_nan(v) && !is_nan(acc)))' : 'v > acc', isArg: op === 'argmax' };
    case 'min': case 'argmin':
      return { init: inf, better: nanCheck ? '(v < acc || (is_nan(v) && !is_nan(acc)))' : 'v < acc', isArg: op === 'argmin' };
  }
}

function reduceKernelSource(op: ReduceOp, t: WgslType, variant: ReduceVariant): KernelSpec {
  const o = ops(op, t);
  const outType = o.isArg ? 'i32' : t;
  const step = op === 'sum' ? 'acc += v;' : `if (${o.better}) { acc = v; arg = r; }`;
  const result = o.isArg ? 'i32(arg)' : 'acc';
  const head = `${paramsWgsl}
${bindings([{ name: 'x', type: t }], [{ name: 'out', type: outType }])}`;
  if (variant === 'thread') {
    return {
      key: `reduce:${op}:${t}:thread`, inputs: 1, outputs: 1,
      source: `${head}
${main1d(WG)}
  if (idx >= P(0u)) { return; }
  let R = P(1u);
  let inner = P(2u);
  let base = (idx / inner) * R * inner + idx % inner;
  var acc: ${t} = ${o.init};
  var arg = 0u;
  for (var r = 0u; r < R; r++) {
    let v = x[base + r * inner];
    ${step}
  }
  out[idx] = ${result};
}`,
    };
  }
  // 'group': workgroup id (on the 2-D grid) = output index
  const combine = op === 'sum'
    ? 'sacc[l] = sacc[l] + sacc[l + s];'
    : `let v = sacc[l + s]; let acc = sacc[l]; let r = sarg[l + s];
        if (${o.better} || (v == acc && r < sarg[l])) { sacc[l] = v; sarg[l] = r; }`;
  return {
    key: `reduce:${op}:${t}:group`, inputs: 1, outputs: 1,
    source: `${head}
var<workgroup> sacc: array<${t}, ${WG}>;
var<workgroup> sarg: array<u32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) l: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = wid.y * nwg.x + wid.x;
  let valid = o < P(0u);
  let R = P(1u);
  let inner = P(2u);
  let base = (o / inner) * R * inner + o % inner;
  var acc: ${t} = ${o.init};
  var arg = 0u;
  if (valid) {
    for (var r = l; r < R; r += ${WG}u) {
      let v = x[base + r * inner];
      ${step}
    }
  }
  sacc[l] = acc;
  sarg[l] = arg;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (l < s) {
      ${combine}
    }
    workgroupBarrier();
  }
  if (l == 0u && valid) {
    let acc = sacc[0];
    let arg = sarg[0];
    out[o] = ${result};
  }
}`,
  };
}

export const reduceKernel = memoKernel(reduceKernelSource);
