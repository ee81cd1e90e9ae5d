/** In-place writes into existing tensors, for optimizers and loadStateDict (parameters must keep their identity). */
import { check, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { assertTensor } from '../tensor/ops/util.js';
import type { Tensor } from '../tensor/tensor.js';

/** Writes the values of `src` into `dst` (same shape, dtype and device), in place. Not recorded by autograd. */
export function copyInto(dst: Tensor, src: Tensor): void {
  assertTensor('copyInto', dst, 'the destination');
  assertTensor('copyInto', src, 'the source');
  check(shapesEqual(dst.shape, src.shape) && dst.dtype === src.dtype && dst.device === src.device, 'copyInto',
    () => `needs the same shape, dtype and device: ${fmtShape(dst.shape)} ${dst.dtype} ${dst.device} ← ` +
    `${fmtShape(src.shape)} ${src.dtype} ${src.device}`);
  dst.storage.backend.copyInto(src.kernelView(), dst.kernelView());
}
