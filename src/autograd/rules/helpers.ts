/** Small helpers the rules share. Like the rules, they are built only from differentiable tensor ops. */
import { reshape, sum } from '../../tensor/ops/index.js';
import type { Tensor } from '../../tensor/tensor.js';
import { shapesEqual } from '../../core/shape.js';

/**
 * Undoes broadcasting: sums `g` (the gradient of a broadcast result) down to `shape`, the shape of the input that was
 * broadcast. Leading dimensions the input did not have are summed away; dimensions where it had size 1 are summed
 * with keepDim. E.g. an input [3, 1] broadcast to [2, 3, 4] gets `g.sum([0, 2], keepDim).reshape([3, 1])`.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const s = axes.length ? sum(g, axes, true) : g;
  return reshape(s, shape);
}

/** The shape `x` had before a reduction over `axes` without keepDim: the reduced axes put back as 1s. */
export function keptShape(inputShape: readonly number[], axes: readonly number[]): number[] {
  return inputShape.map((d, i) => (axes.includes(i) ? 1 : d));
}
