/**
 * Functional forms of the layers and losses (as torch.nn.functional). The modules call these.
 * The vision ops (conv2d, maxPool2d, dropout, crossEntropy) live in src/tensor/ops/ (conv, pool, dropout, classification)
 * and are re-exported.
 */
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../tensor/ops/index.js';
import { assertTensor, releaseIntermediates } from '../tensor/ops/util.js';
import { check, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';

export type { Conv2dOptions, Pool2dOptions } from '../tensor/ops/index.js';

/** y = x·Wᵀ + b, with W [out, in] and b [out] (PyTorch's layout). */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  assertTensor('linear', x);
  check(x.shape[x.ndim - 1] === weight.shape[1], 'linear',
    () => `the input's last dimension is ${x.shape[x.ndim - 1]} (shape ${fmtShape(x.shape)}) but the layer expects ` +
    `${weight.shape[1]} features (weight ${fmtShape(weight.shape)})`);
  const wt = ops.transpose(weight, 0, 1);
  const y = ops.matmul(x, wt);
  const out = bias ? ops.add(y, bias) : y;
  releaseIntermediates(out, wt, y);
  return out;
}

export const relu = (x: Tensor) => ops.relu(x);

/** Mean (or sum) of squared differences. */
export function mseLoss(pred: Tensor, target: Tensor, reduction: 'mean' | 'sum' = 'mean'): Tensor {
  assertTensor('mseLoss', pred, 'the prediction');
  assertTensor('mseLoss', target, 'the target');
  check(shapesEqual(pred.shape, target.shape), 'mseLoss', () => `prediction ${fmtShape(pred.shape)} and target ` +
    `${fmtShape(target.shape)} must have the same shape (reshape one; broadcasting here is almost always a bug)`);
  const d = ops.sub(pred, target);
  const sq = ops.square(d);
  const out = reduction === 'sum' ? ops.sum(sq) : ops.mean(sq);
  releaseIntermediates(out, d, sq);
  return out;
}

export const conv2d = ops.conv2d;
export const maxPool2d = ops.maxPool2d;
export const dropout = ops.dropout;
/** Mean cross-entropy of logits [B, C] against int32 labels [B]. */
export const crossEntropy = ops.crossEntropy;
