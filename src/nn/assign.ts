/** In-place writes into existing tensors, for optimizers and loadStateDict (parameters must keep their identity). */
import { check, fmtShape } from '../kernels/errors.js';
import { shapesEqual } from '../kernels/shape.js';
import { assertTensor } from '../tensor/ops/util.js';
import type { Tensor } from '../tensor/tensor.js';

/** Writes the values of `src` into `dst` (same shape, dtype and device), in place. Not recorded by autograd. */
export function copyInto(dst: Tensor, src: Tensor): void {
  assertTensor('copyInto', dst, 'the destination');
  assertTensor('copyInto', src, 'the source');
  check(shapesEqual(dst.shape, src.shape) && dst.dtype === src.dtype && dst.device === src.device, 'copyInto',
    () => `needs the same shape, dtype and device: ${fmtShape(dst.shape)} ${dst.dtype} ${dst.device} ← ` +
    `${fmtShape(src.shape)} ${src.dtype} ${src.device}`);
  dst.storage.backend.copyInto(src.view(), dst.view());
}

/** Whether `t` owns all of its storage in row-major order (what the fused optimizer kernels need). */
export const isDense = (t: Tensor) => t.isContiguous && t.offset === 0 && t.storage.length === t.size;
