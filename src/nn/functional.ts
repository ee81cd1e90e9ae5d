/**
 * Functional forms of the layers and losses (as torch.nn.functional). The modules call these.
 * The vision ops (conv2d, maxPool2d, dropout, crossEntropy) live in src/tensor/ops/vision.ts; they are looked up when
 * called, so the MLP path works in a build without them.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Generator } from '../tensor/random.js';
import * as ops from '../tensor/ops/index.js';
import { GpugradError, check, fmtShape } from '../kernels/errors.js';
import { shapesEqual } from '../kernels/shape.js';

type Pair = number | readonly [number, number];
export interface Conv2dOptions { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }
export interface Pool2dOptions { stride?: Pair; padding?: Pair }

interface VisionOps {
  conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, opts?: Conv2dOptions): Tensor;
  maxPool2d(x: Tensor, kernelSize: Pair, opts?: Pool2dOptions): Tensor;
  dropout(x: Tensor, p: number, training: boolean, generator?: Generator): Tensor;
  crossEntropy(logits: Tensor, labels: Tensor): Tensor;
}

function visionOp<K extends keyof VisionOps>(name: K): VisionOps[K] {
  const f = (ops as unknown as Partial<VisionOps>)[name];
  if (typeof f !== 'function') {
    throw new GpugradError(`${name}: the vision ops (src/tensor/ops/vision.ts) are not part of this build`);
  }
  return f as VisionOps[K];
}

/** y = x·Wᵀ + b, with W [out, in] and b [out] (PyTorch's layout). */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  check(x.shape[x.ndim - 1] === weight.shape[1], 'linear',
    `the input's last dimension is ${x.shape[x.ndim - 1]} (shape ${fmtShape(x.shape)}) but the layer expects ` +
    `${weight.shape[1]} features (weight ${fmtShape(weight.shape)})`);
  const y = ops.matmul(x, ops.transpose(weight, 0, 1));
  return bias ? ops.add(y, bias) : y;
}

export const relu = (x: Tensor) => ops.relu(x);

/** Mean (or sum) of squared differences. */
export function mseLoss(pred: Tensor, target: Tensor, reduction: 'mean' | 'sum' = 'mean'): Tensor {
  check(shapesEqual(pred.shape, target.shape), 'mseLoss', `prediction ${fmtShape(pred.shape)} and target ` +
    `${fmtShape(target.shape)} must have the same shape (reshape one; broadcasting here is almost always a bug)`);
  const sq = ops.square(ops.sub(pred, target));
  return reduction === 'sum' ? ops.sum(sq) : ops.mean(sq);
}

export const conv2d = (x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}) =>
  visionOp('conv2d')(x, weight, bias, opts);
export const maxPool2d = (x: Tensor, kernelSize: Pair, opts: Pool2dOptions = {}) => visionOp('maxPool2d')(x, kernelSize, opts);
export const dropout = (x: Tensor, p = 0.5, training = true, generator?: Generator) =>
  visionOp('dropout')(x, p, training, generator);
/** Mean cross-entropy of logits [B, C] against int32 labels [B]. */
export const crossEntropy = (logits: Tensor, labels: Tensor) => visionOp('crossEntropy')(logits, labels);
