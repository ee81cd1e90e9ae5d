/**
 * Fused cross-entropy loss: mean over rows of logsumexp(logits[b]) − logits[b, label[b]], in one dispatch of one
 * workgroup. Each invocation takes some rows (./workgroup-sum.ts); a row's log-sum-exp is one pass with the online recurrence
 * (keep the running max m and Σ exp(v − m), rescaling the sum when m grows), so it never overflows; the partial sums
 * meet in a tree in workgroup memory.
 *
 * A label outside [0, classes) makes that row NaN and is reported through `status` (word 0 = 1, word 1 = the label,
 * word 2 = the row, word 3 = the kernel), which the backend checks at the next read-back: an error, not a
 * plausible-looking loss.
 * Uniforms: B the batch, C the classes.
 */
import { ieeeWgsl } from './common.js';
import { memoKernel } from './program.js';
import { labelledRowSumProgram } from './workgroup-sum.js';

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

function source() {
  return labelledRowSumProgram('cross-entropy', 'f32', rowLogSumExpWgsl, `    if (label_ok(b, C, 0)) {
      acc += row_lse(b * C, C) - logits[b * C + u32(labels[b])];
    } else {
      acc += f32_nan();
    }`, 'out[0] = partial[0] / f32(B);');
}

export const crossEntropyKernel = memoKernel(source);
