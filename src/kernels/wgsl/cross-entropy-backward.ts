/**
 * Cross-entropy's gradient in one pass per row: dlogits[b, c] = (softmax(logits[b])[c] − [c = label[b]]) · g / B,
 * where g is the loss's incoming gradient (a one-element buffer, so no read-back). One invocation per row: the row's
 * log-sum-exp (online, see cross-entropy.ts), then one write per class. Bad labels give NaN rows and set `status`.
 * Parameters: 0 batch, 1 classes.
 */
import { type KernelSpec, bindings, main1d, memoKernel, paramsWgsl } from './common.js';
import { rowLogSumExpWgsl } from './cross-entropy.js';

export const WG = 64;

function source(): KernelSpec {
  return {
    key: 'cross-entropy-backward',
    inputs: 3,
    outputs: 2,
    source: `${paramsWgsl}
${bindings([{ name: 'logits', type: 'f32' }, { name: 'labels', type: 'i32' }, { name: 'gout', type: 'f32' }],
    [{ name: 'dlogits', type: 'f32' }, { name: 'status', type: 'i32' }])}
${rowLogSumExpWgsl}
${main1d(WG)}
  let B = P(0u); let C = P(1u);
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
  }
}`,
  };
}

export const crossEntropyBackwardKernel = memoKernel(source);
