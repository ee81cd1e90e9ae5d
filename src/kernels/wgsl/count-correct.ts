/**
 * Counts the rows whose argmax (the first maximum; NaN wins, as argmax) equals the label, in one workgroup: each
 * invocation takes rows l, l + WG, …, and the counts meet in a tree in workgroup memory. Accuracy then costs one
 * 4-byte read-back instead of the whole logits tensor. A label outside [0, classes) is reported through `status`, as
 * in cross-entropy.ts.
 * Parameters: 0 batch, 1 classes.
 */
import { type KernelSpec, bindings, memoKernel, paramsWgsl } from './common.js';
import { labelOkWgsl } from './cross-entropy.js';

export const WG = 256;

function source(): KernelSpec {
  return {
    key: 'count-correct',
    inputs: 2,
    outputs: 2,
    source: `${paramsWgsl}
${bindings([{ name: 'logits', type: 'f32' }, { name: 'labels', type: 'i32' }], [{ name: 'out', type: 'i32' }, { name: 'status', type: 'i32' }])}
${labelOkWgsl}
var<workgroup> partial: array<i32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) l: u32) {
  let B = P(0u); let C = P(1u);
  var count = 0;
  for (var b = l; b < B; b += ${WG}u) {
    var best = -f32_inf();
    var arg = 0;
    for (var c = 0u; c < C; c++) {
      let v = logits[b * C + c];
      if (v > best || (is_nan(v) && !is_nan(best))) { best = v; arg = i32(c); }
    }
    if (label_ok(b, C, 1) && arg == labels[b]) { count += 1; }
  }
  partial[l] = count;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (l < s) { partial[l] += partial[l + s]; }
    workgroupBarrier();
  }
  if (l == 0u) { out[0] = partial[0]; }
}`,
  };
}

export const countCorrectKernel = memoKernel(source);
