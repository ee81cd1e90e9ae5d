/**
 * The matmul rule. For y = a·b (batched, with broadcast batch dimensions):
 *   da = g·bᵀ   and   db = aᵀ·g,
 * each summed over the batch dimensions its operand was broadcast along.
 *
 * Layout: when an operand is a transposed view (its last two dimensions column-major, as transpose(gz)·x in a
 * linear layer's weight gradient), its gradient is computed as the transpose of a contiguous product, (b·gᵀ)ᵀ or
 * (gᵀ·a)ᵀ: the same numbers, laid out like the operand. The transpose rule then hands back a contiguous gradient to
 * the tensor that was transposed, where da = g·bᵀ would have handed it a strided view — and every later add that
 * accumulates it (a double backward adds three gradients per layer) would read it through strided coordinates.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { matmul, transpose } from '../../tensor/ops/index.js';
import { sumToShape } from './helpers.js';
import { defineRule } from './registry.js';

/** Its last two dimensions are stored column-major (a transposed view of a contiguous block). */
function columnMajor(t: Tensor): boolean {
  const n = t.ndim;
  return n >= 2 && t.shape[n - 1] > 1 && t.shape[n - 2] > 1 && t.strides[n - 2] === 1 && t.strides[n - 1] === t.shape[n - 2];
}

/** The shape with its last two dimensions swapped. */
const swapped = (shape: readonly number[]) => [...shape.slice(0, -2), shape[shape.length - 1], shape[shape.length - 2]];

defineRule('matmul', (g, { inputs: [a, b], needsGrad }) => [
  needsGrad[0]
    ? columnMajor(a)
      ? transpose(sumToShape(matmul(b, transpose(g, -2, -1)), swapped(a.shape)), -2, -1) // (b·gᵀ)ᵀ
      : sumToShape(matmul(g, transpose(b, -2, -1)), a.shape)
    : null,
  needsGrad[1]
    ? columnMajor(b)
      ? transpose(sumToShape(matmul(transpose(g, -2, -1), a), swapped(b.shape)), -2, -1) // (gᵀ·a)ᵀ
      : sumToShape(matmul(transpose(a, -2, -1), g), b.shape)
    : null,
]);
