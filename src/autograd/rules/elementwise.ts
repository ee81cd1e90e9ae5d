/**
 * Rules for the elementwise ops. Each reads: d(output)/d(input) times the output's gradient `g`, summed back to the
 * input's shape where the op broadcast it. Written with the same ops users call, so every rule can be differentiated
 * again (that is all `createGraph` needs).
 */
import {
  add, cos, div, eq, ge, gt, log, lt, mul, neg, pow, sign, sin, square, step, sub, where,
} from '../../tensor/ops/index.js';
import type { Tensor } from '../../tensor/tensor.js';
import { sumToShape } from './helpers.js';
import { defineRule } from './registry.js';

// ---- unary: one input x, output y ----------------------------------------------------------------------------------
defineRule('neg', (g) => [neg(g)]);
defineRule('abs', (g, { inputs: [x] }) => [mul(g, sign(x))]);                       // d|x| = sign(x)
defineRule('exp', (g, { output: y }) => [mul(g, y)]);                               // d e^x = e^x = y
defineRule('log', (g, { inputs: [x] }) => [div(g, x)]);                             // d ln x = 1/x
defineRule('sqrt', (g, { output: y }) => [div(g, mul(y, 2))]);                      // d √x = 1/(2√x)
defineRule('sin', (g, { inputs: [x] }) => [mul(g, cos(x))]);
defineRule('cos', (g, { inputs: [x] }) => [neg(mul(g, sin(x)))]);
defineRule('tanh', (g, { output: y }) => [mul(g, sub(1, square(y)))]);              // 1 − tanh²
defineRule('sigmoid', (g, { output: y }) => [mul(g, mul(y, sub(1, y)))]);           // σ(1 − σ)
// 1 where x > 0, read from the output (relu(x) ≠ 0 exactly there): one pass, and a constant mask to a 2nd derivative
defineRule('relu', (g, { output: y }) => [where(y.detach(), g, 0)]);
defineRule('square', (g, { inputs: [x] }) => [mul(g, mul(x, 2))]);
defineRule('reciprocal', (g, { output: y }) => [neg(mul(g, square(y)))]);           // d(1/x) = −1/x² = −y²

// ---- binary: inputs a, b (broadcast together), output y ------------------------------------------------------------
defineRule('add', (g, { inputs: [a, b] }) => [sumToShape(g, a.shape), sumToShape(g, b.shape)]);
defineRule('sub', (g, { inputs: [a, b], needsGrad }) => [sumToShape(g, a.shape), needsGrad[1] ? sumToShape(neg(g), b.shape) : null]);
defineRule('mul', (g, { inputs: [a, b], needsGrad }) => [
  needsGrad[0] ? sumToShape(mul(g, b), a.shape) : null,
  needsGrad[1] ? sumToShape(mul(g, a), b.shape) : null,
]);
defineRule('div', (g, { inputs: [a, b], output: y, needsGrad }) => [
  needsGrad[0] ? sumToShape(div(g, b), a.shape) : null,
  needsGrad[1] ? sumToShape(neg(div(mul(g, y), b)), b.shape) : null,               // d(a/b)/db = −a/b² = −y/b
]);
defineRule('pow', (g, { inputs: [a, b], output: y, needsGrad }) => [
  // b·a^(b−1), taken as 0 where b = 0 (as PyTorch; otherwise 0·0^−1 would be NaN at a = 0)
  needsGrad[0] ? sumToShape(where(eq(b, 0), 0, mul(g, mul(b, pow(a, sub(b, 1))))), a.shape) : null,
  // a^b·ln a, taken as 0 where a = 0 and b ≥ 0 (the limit PyTorch uses)
  needsGrad[1] ? sumToShape(where(mul(eq(a, 0), ge(b, 0)), 0, mul(g, mul(y, log(a)))), b.shape) : null,
]);

/** maximum/minimum: the gradient goes to the winner; on a tie it is split evenly (as PyTorch). */
function extremumRule(wins: (a: Tensor, b: Tensor) => Tensor) {
  return (g: Tensor, { inputs: [a, b], needsGrad }: { inputs: readonly Tensor[]; needsGrad: readonly boolean[] }) => {
    const share = add(wins(a, b), mul(eq(a, b), 0.5)); // a's share: 1, ½ or 0 (comparisons are not recorded)
    return [
      needsGrad[0] ? sumToShape(mul(g, share), a.shape) : null,
      needsGrad[1] ? sumToShape(mul(g, sub(1, share)), b.shape) : null,
    ];
  };
}
defineRule('maximum', extremumRule(gt));
defineRule('minimum', extremumRule(lt));

/** where(cond, a, b): a's gradient where cond holds, b's elsewhere. `cond` is saved (it is not an input). */
defineRule('where', (g, { inputs: [a, b], saved, needsGrad }) => {
  const cond = saved.cond as Tensor;
  return [
    needsGrad[0] ? sumToShape(where(cond, g, 0), a.shape) : null,
    needsGrad[1] ? sumToShape(where(cond, 0, g), b.shape) : null,
  ];
});
