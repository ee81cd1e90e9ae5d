/**
 * Fused cross-entropy loss: mean over rows of logsumexp(logits[b]) − logits[b, label[b]], in one dispatch of one
 * workgroup. Each invocation takes rows l, l + WG, …; a row's log-sum-exp is one pass with the online recurrence
 * (keep the running max m and Σ exp(v − m), rescaling the sum when m grows), so it never overflows; the partial sums
 * meet in a tree in workgroup memory.
 *
 * A label outside [0, classes) makes that row NaN and is reported through `status` (word 0 = 1, word 1 = the label,
 * word 2 = the row), which the backend checks at the next read-back: an error, not a plausible-looking loss.
 * Parameters: 0 batch, 1 classes.
 */
import { type KernelSpec, bindings, ieeeWgsl, memoKernel, paramsWgsl } from './common.js';

export const WG = 256;

/** The label check (needs `labels` and `status` bindings): false, and `status` set, for a label outside [0, classes). */
export const labelOkWgsl = /* wgsl */ `
// status[3] names the kernel that found the bad label (LABEL_OPS in webgpu/vision.ts)
fn label_ok(b: u32, classes: u32, op: i32) -> bool {
  let y = labels[b];
  if (y >= 0 && u32(y) < classes) { return true; }
  status[0] = 1; status[1] = y; status[2] = i32(b); status[3] = op;
  return false;
}
`;

/** WGSL shared with the backward kernel: a row's log-sum-exp (online; NaN and ±∞ as the CPU's), and the label check. */
export const rowLogSumExpWgsl = /* wgsl */ `${ieeeWgsl}
fn row_lse(base: u32, classes: u32) -> f32 {
  var m = -f32_inf();
  var s = 0.0;
  for (var c = 0u; c < classes; c++) {
    let v = logits[base + c];
    if (v > m) { s = s * exp_ieee(m - v) + 1.0; m = v; } else { s += exp_ieee(v - m); }
  }
  return m + log_ieee(s);
}
${labelOkWgsl}`;

function source(): KernelSpec {
  return {
    key: 'cross-entropy',
    inputs: 2,
    outputs: 2,
    source: `${paramsWgsl}
${bindings([{ name: 'logits', type: 'f32' }, { name: 'labels', type: 'i32' }],
    [{ name: 'out', type: 'f32' }, { name: 'status', type: 'i32' }])}
${rowLogSumExpWgsl}
var<workgroup> partial: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) l: u32) {
  let B = P(0u); let C = P(1u);
  var acc = 0.0;
  for (var b = l; b < B; b += ${WG}u) {
    if (label_ok(b, C, 0)) {
      acc += row_lse(b * C, C) - logits[b * C + u32(labels[b])];
    } else {
      acc += f32_nan();
    }
  }
  partial[l] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (l < s) { partial[l] += partial[l + s]; }
    workgroupBarrier();
  }
  if (l == 0u) { out[0] = partial[0] / f32(B); }
}`,
  };
}

export const crossEntropyKernel = memoKernel(source);
