/**
 * Classification: the fused cross-entropy loss and its gradient op (src/autograd/rules/classification.ts), and
 * countCorrect (accuracy as one number on the device).
 */
import { check, fmtShape } from '../../core/errors.js';
import { record } from '../autograd-seam.js';
import { Tensor } from '../tensor.js';
import { assertFloat, assertTensor, sameDevice, withContiguous } from './util.js';

function checkLogitsLabels(op: string, logits: Tensor, labels: Tensor): [number, number] {
  assertFloat(op, logits, 'logits');
  assertTensor(op, labels, 'labels');
  check(logits.ndim === 2, op, () => `logits must be [batch, classes], got ${fmtShape(logits.shape)}`);
  check(labels.dtype === 'int32', op, `labels must be int32 class indices, got ${labels.dtype}; use labels.cast('int32')`);
  const [batch, classes] = logits.shape;
  check(labels.ndim === 1 && labels.shape[0] === batch, op,
    () => `labels must be [${batch}] (one class index per row of logits ${fmtShape(logits.shape)}), got ${fmtShape(labels.shape)}`);
  check(batch > 0 && classes > 0, op, () => `logits ${fmtShape(logits.shape)} are empty`);
  sameDevice(op, logits, labels);
  return [batch, classes];
}

/**
 * Mean over the batch of −log softmax(logits)[label], computed stably in one fused kernel. Labels outside
 * [0, classes) are an error: at once on the CPU; on WebGPU at the next read-back (the loss is NaN meanwhile).
 */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const [batch, classes] = checkLogitsLabels('crossEntropy', logits, labels);
  const s = withContiguous([logits, labels], (ld, yd) => logits.storage.backend.crossEntropy(ld.storage, yd.storage, batch, classes));
  return record('crossEntropy', [logits], Tensor.fromStorage(s, []), { labels });
}

/** (softmax(logits) − onehot(labels)) · gradOut / batch: crossEntropy's gradient, in one fused kernel. */
export function crossEntropyBackward(logits: Tensor, labels: Tensor, gradOut: Tensor): Tensor {
  const [batch, classes] = checkLogitsLabels('crossEntropyBackward', logits, labels);
  check(gradOut.size === 1, 'crossEntropyBackward', () => `gradOut must be a scalar, got ${fmtShape(gradOut.shape)}`);
  sameDevice('crossEntropyBackward', logits, gradOut);
  const s = withContiguous([logits, labels, gradOut], (ld, yd, gd) =>
    logits.storage.backend.crossEntropyBackward(ld.storage, yd.storage, gd.storage, batch, classes));
  return record('crossEntropyBackward', [logits, gradOut], Tensor.fromStorage(s, logits.shape), { labels });
}

/** How many rows' argmax equals their label, as an int32 scalar on the device (read one number, not the logits). */
export function countCorrect(logits: Tensor, labels: Tensor): Tensor {
  const [batch, classes] = checkLogitsLabels('countCorrect', logits, labels);
  const s = withContiguous([logits, labels], (ld, yd) => logits.storage.backend.countCorrect(ld.storage, yd.storage, batch, classes));
  return Tensor.fromStorage(s, []);
}
