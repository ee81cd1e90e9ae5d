/** The fused linear layer's rule (its forward is src/tensor/ops/linear.ts). */
import { where } from '../../tensor/ops/elementwise.js';
import { sum } from '../../tensor/ops/reduce.js';
import { reshape, transpose } from '../../tensor/ops/views.js';
import { defineRule } from './registry.js';

// y = relu?(x·Wᵀ + b), plain (W [out, in]) or stacked (W [N, out, in]); the gradients from differentiable ops
defineRule('fusedLinear', (g, { inputs: [x, weight], output, saved, needsGrad: needs }) => {
  const relu = saved.relu as boolean;
  // ReLU's derivative as a mask read from the output (out > 0 exactly where out ≠ 0): one pass, and not recorded, so a
  // second differentiation treats it as the constant it is almost everywhere
  const gz = relu ? where(output.detach(), g, 0) : g;
  if (weight.ndim === 3) {
    // stacked: gz [N, B, out]; x [B, in] (shared by the members: its gradient sums theirs) or [N, B, in]
    const dx = needs[0] ? gz.matmul(weight) : null;
    return [
      dx && x.ndim === 2 ? sum(dx, 0) : dx,
      needs[1] ? transpose(gz, 1, 2).matmul(x) : null,
      needs[2] ? sum(gz, 1) : null,
    ].slice(0, needs.length); // without a bias, two inputs
  }
  const [outF, inF] = weight.shape;
  const g2 = reshape(gz, [-1, outF]);
  return [
    needs[0] ? reshape(g2.matmul(weight), x.shape) : null,
    needs[1] ? g2.T.matmul(reshape(x, [-1, inF])) : null,
    needs[2] ? sum(g2, 0) : null,
  ].slice(0, needs.length);
});
