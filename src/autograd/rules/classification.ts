/** Cross-entropy's rules: the fused loss's gradient op, and that op's own gradient (softmax's Jacobian). */
import { full } from '../../tensor/creation.js';
import { softmax } from '../../tensor/ops/activation.js';
import { crossEntropyBackward } from '../../tensor/ops/classification.js';
import { div, mul, sub } from '../../tensor/ops/elementwise.js';
import { sum } from '../../tensor/ops/reduce.js';
import type { Tensor } from '../../tensor/tensor.js';
import { defineRule } from './registry.js';

defineRule('crossEntropy', (g, { inputs: [logits], saved }) => [crossEntropyBackward(logits, saved.labels as Tensor, g)]);

// z = g0 · (softmax(l) − onehot) / B. dz/dg0 is (softmax − onehot)/B itself; dz/dl is g0/B times softmax's Jacobian.
defineRule('crossEntropyBackward', (gz, { inputs: [logits, g0], saved, needsGrad }) => {
  const labels = saved.labels as Tensor;
  let dLogits: Tensor | null = null, dG0: Tensor | null = null;
  if (needsGrad[0]) {
    const s = softmax(logits, -1);
    const sg = mul(s, gz);
    const jvp = sub(sg, mul(s, sum(sg, -1, true)));
    dLogits = mul(jvp, div(g0, logits.shape[0]));
  }
  if (needsGrad[1]) {
    const one = full([], 1, { dtype: logits.dtype, device: logits.device });
    dG0 = sum(mul(gz, crossEntropyBackward(logits, labels, one)));
  }
  return [dLogits, dG0];
});
