/**
 * Rules for the reductions. The op saved which axes it reduced and whether it kept them; the gradient of the output is
 * reshaped to put those axes back as size 1 and broadcast over them.
 */
import { div, eq, expand, mul, reshape, sum } from '../../tensor/ops/index.js';
import type { Tensor } from '../../tensor/tensor.js';
import { keptShape } from './helpers.js';
import { defineRule, type RuleContext } from './registry.js';

/** The output's gradient laid out over the input: reduced axes restored as 1s, then broadcast (a view, no copy). */
function spread(g: Tensor, { inputs: [x], saved }: RuleContext): Tensor {
  const axes = saved.axes as number[];
  const kept = saved.keepDim ? g : reshape(g, keptShape(x.shape, axes));
  return expand(kept, x.shape);
}

// d(sum)/dx_i = 1 for every element that was summed
defineRule('sum', (g, ctx) => [spread(g, ctx)]);

/** max/min: the gradient goes to the elements equal to the result; ties share it evenly (as torch.amax). */
function extremumRule(g: Tensor, ctx: RuleContext): Tensor[] {
  const [x] = ctx.inputs;
  const axes = ctx.saved.axes as number[];
  const y = ctx.output.detach(); // the mask is a constant: its derivative is 0 almost everywhere
  const yKept = ctx.saved.keepDim ? y : reshape(y, keptShape(x.shape, axes));
  const mask = eq(x.detach(), yKept);
  const count = sum(mask, axes, true);
  return [mul(spread(g, ctx), div(mask, count))];
}
defineRule('max', extremumRule);
defineRule('min', extremumRule);
