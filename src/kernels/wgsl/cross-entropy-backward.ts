/**
 * Cross-entropy's gradient in one pass per row: dlogits[b, c] = (softmax(logits[b])[c] − [c = label[b]]) · g / B,
 * where g is the loss's incoming gradient (a one-element buffer, so no read-back). One invocation per row: the row's
 * log-sum-exp (online, see cross-entropy.ts), then one write per class. Bad labels give NaN rows and set `status`.
 * Uniforms: B the batch, C the classes.
 */
import { rowLogSumExpWgsl } from './cross-entropy.js';
import { kernelProgram, memoKernel } from './program.js';

function source() {
  return kernelProgram({
    key: 'cross-entropy-backward',
    inputs: [{ name: 'logits', type: 'f32' }, { name: 'labels', type: 'i32' }, { name: 'gout', type: 'f32' }],
    outputs: [{ name: 'dlogits', type: 'f32' }, { name: 'status', type: 'i32' }],
    uniforms: { B: 'u32', C: 'u32' },
    helpers: rowLogSumExpWgsl,
    entry: { linear: `
  let B = u.B; let C = u.C;
  if (idx >= B) { return; }
  let base = idx * C;
  let scale = gout[0] / f32(B);
  if (!label_ok(idx, C, 0)) {
    for (var c = 0u; c < C; c++) { dlogits[base + c] = f32_nan(); }
    return;
  }
  let lse = row_lse(base, C);
  let y = u32(labels[idx]);
  for (var c = 0u; c < C; c++) {
    dlogits[base + c] = (exp_ieee(logits[base + c] - lse) - select(0.0, 1.0, c == y)) * scale;
  }` },
  });
}

export const crossEntropyBackwardKernel = memoKernel(source);
