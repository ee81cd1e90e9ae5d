/**
 * softmax and logSoftmax, composed from differentiable primitives (so they have gradients of every order).
 * The row maximum is subtracted for stability and detached: softmax does not depend on the shift.
 */
import { normAxis } from '../../core/shape.js';
import type { Tensor } from '../tensor.js';
import { releaseIntermediates } from './util.js';
import { exp, log, sub, div } from './elementwise.js';
import { max, sum } from './reduce.js';

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const a = normAxis('logSoftmax', axis, x.ndim);
  const xd = x.detach();
  const m = max(xd, a, true);
  const shifted = sub(x, m);
  const e = exp(shifted);
  const s = sum(e, a, true);
  const ls = log(s);
  const out = sub(shifted, ls);
  releaseIntermediates(out, xd, m, shifted, e, s, ls);
  return out;
}

export function softmax(x: Tensor, axis = -1): Tensor {
  const a = normAxis('softmax', axis, x.ndim);
  const xd = x.detach();
  const m = max(xd, a, true);
  const shifted = sub(x, m);
  const e = exp(shifted);
  const s = sum(e, a, true);
  const out = div(e, s);
  releaseIntermediates(out, xd, m, shifted, e, s);
  return out;
}
