/**
 * The matmul rule. For y = a·b (batched, with broadcast batch dimensions):
 *   da = g·bᵀ   and   db = aᵀ·g,
 * each summed over the batch dimensions its operand was broadcast along.
 */
import { matmul, transpose } from '../../tensor/ops/index.js';
import { sumToShape } from './helpers.js';
import { defineRule } from './registry.js';

defineRule('matmul', (g, { inputs: [a, b], needsGrad }) => [
  needsGrad[0] ? sumToShape(matmul(g, transpose(b, -2, -1)), a.shape) : null,
  needsGrad[1] ? sumToShape(matmul(transpose(a, -2, -1), g), b.shape) : null,
]);
