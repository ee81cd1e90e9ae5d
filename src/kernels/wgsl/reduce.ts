/**
 * Reductions of the middle axis of a contiguous [outer, R, inner] layout into [outer, inner].
 * Two variants, chosen by shape on the host:
 * - 'thread': one invocation per output walks R with stride `inner` — many outputs, or short R.
 * - 'group': one 64-wide workgroup per output, a strided partial per invocation, then a tree in workgroup memory —
 *   few outputs with long R (a full sum, a bias gradient over a big batch).
 * NaN wins in max/min (as PyTorch); argmax/argmin keep the first extreme.
 * Uniforms: outputs (outer·inner), R, inner.
 */
import type { ReduceOp } from '../backend.js';
import { type KernelProgram, type WgslType, kernelProgram, memoKernel } from './program.js';
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

const uniforms = { outputs: 'u32', R: 'u32', inner: 'u32' } as const;

function reduceKernelSource(op: ReduceOp, t: WgslType, variant: ReduceVariant): KernelProgram<keyof typeof uniforms> {
  const o = ops(op, t);
  const outType = o.isArg ? 'i32' : t;
  const step = op === 'sum' ? 'acc += v;' : `if (${o.better}) { acc = v; arg = r; }`;
  const result = o.isArg ? 'i32(arg)' : 'acc';
  const io = { inputs: [{ name: 'x', type: t }], outputs: [{ name: 'out', type: outType }], uniforms };
  if (variant === 'thread') {
    return kernelProgram({
      key: `reduce:${op}:${t}:thread`, ...io,
      entry: { linear: `
  if (idx >= u.outputs) { return; }
  let R = u.R;
  let inner = u.inner;
  let base = (idx / inner) * R * inner + idx % inner;
  var acc: ${t} = ${o.init};
  var arg = 0u;
  for (var r = 0u; r < R; r++) {
    let v = x[base + r * inner];
    ${step}
  }
  out[idx] = ${result};` },
    });
  }
  // 'group': workgroup id (on the 2-D grid) = output index
  const combine = op === 'sum'
    ? 'sacc[l] = sacc[l] + sacc[l + s];'
    : `let v = sacc[l + s]; let acc = sacc[l]; let r = sarg[l + s];
        if (${o.better} || (v == acc && r < sarg[l])) { sacc[l] = v; sarg[l] = r; }`;
  return kernelProgram({
    key: `reduce:${op}:${t}:group`, ...io,
    entry: {
      dispatch: 'workgroup',
      custom: (wg) => `var<workgroup> sacc: array<${t}, ${wg}>;
var<workgroup> sarg: array<u32, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) l: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = wid.y * nwg.x + wid.x;
  let valid = o < u.outputs;
  let R = u.R;
  let inner = u.inner;
  let base = (o / inner) * R * inner + o % inner;
  var acc: ${t} = ${o.init};
  var arg = 0u;
  if (valid) {
    for (var r = l; r < R; r += ${wg}u) {
      let v = x[base + r * inner];
      ${step}
    }
  }
  sacc[l] = acc;
  sarg[l] = arg;
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s >>= 1u) {
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
    },
  });
}

export const reduceKernel = memoKernel(reduceKernelSource);
