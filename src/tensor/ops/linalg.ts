/** matmul: 1-D, 2-D and batched (broadcast batch dimensions), as NumPy's matmul. */
import { check, fmtShape } from '../../core/errors.js';
import { broadcastShapes, collapseDims, sizeOf } from '../../core/shape.js';
import { record } from '../autograd-seam.js';
import { Tensor } from '../tensor.js';
import { assertTensor, broadcastView, operands, releaseIntermediates } from './util.js';
import { reshape, unsqueeze } from './views.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  assertTensor('matmul', a, 'first operand');
  assertTensor('matmul', b, 'second operand');
  check(a.ndim >= 1 && b.ndim >= 1, 'matmul', () => `needs tensors of at least 1 dimension, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  if (a.ndim >= 2 && b.ndim >= 2) return matmul2(a, b);
  // NumPy's rule for vectors: a 1-D left operand is a row, a 1-D right operand a column; both are removed after.
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? unsqueeze(b, -1) : b;
  const r = matmul2(a2, b2);
  const shape = [...r.shape.slice(0, -2), ...(a.ndim === 1 ? [] : [r.shape[r.ndim - 2]]), ...(b.ndim === 1 ? [] : [r.shape[r.ndim - 1]])];
  const out = reshape(r, shape);
  releaseIntermediates(out, ...[a2, b2].filter((t) => t !== a && t !== b), r);
  return out;
}

/** The recorded primitive: both operands have at least 2 dimensions. */
function matmul2(a0: Tensor, b0: Tensor): Tensor {
  check(a0.dtype !== 'int32' && b0.dtype !== 'int32', 'matmul', `needs floating-point tensors, got ${a0.dtype} and ${b0.dtype}`);
  const [a, b] = operands('matmul', a0, b0);
  const m = a.shape[a.ndim - 2], k = a.shape[a.ndim - 1];
  const k2 = b.shape[b.ndim - 2], n = b.shape[b.ndim - 1];
  check(k === k2, 'matmul', () => `shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not align (${k} ≠ ${k2})`);
  const ba = a.shape.slice(0, -2), bb = b.shape.slice(0, -2);
  check(ba.every((d, i) => { const e = bb[bb.length - ba.length + i]; return e === undefined || d === e || d === 1 || e === 1; }),
    'matmul', () => `batch dimensions of ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not broadcast (${fmtShape(ba)} vs ${fmtShape(bb)})`);
  const batchShape = broadcastShapes('matmul', ba, bb);
  const batch = sizeOf(batchShape);
  const va = broadcastView(a, [...batchShape, m, k]);
  const vb = broadcastView(b, [...batchShape, k, n]);
  // Fold the batch dimensions into one stride per operand; when they do not fold, copy the operand.
  const folded = collapseDims(batchShape, [va.strides.slice(0, -2), vb.strides.slice(0, -2)]);
  const backend = a.storage.backend;
  let ta = a, tb = b;
  let sa = folded.strides[0][0] ?? 0, sb = folded.strides[1][0] ?? 0;
  const tmp: Tensor[] = [];
  if (folded.shape.length > 1) {
    ta = Tensor.fromStorage(backend.copy(va), va.shape); tmp.push(ta);
    tb = Tensor.fromStorage(backend.copy(vb), vb.shape); tmp.push(tb);
    sa = m * k; sb = k * n;
  }
  const viewA = { storage: ta.storage, shape: [batch, m, k], strides: [sa, ...(tmp.length ? [k, 1] : va.strides.slice(-2))], offset: tmp.length ? 0 : a.offset };
  const viewB = { storage: tb.storage, shape: [batch, k, n], strides: [sb, ...(tmp.length ? [n, 1] : vb.strides.slice(-2))], offset: tmp.length ? 0 : b.offset };
  const out = Tensor.fromStorage(backend.matmul(viewA, viewB, batch, m, k, n), [...batchShape, m, n]);
  for (const t of tmp) t.dispose();
  return record('matmul', [a, b], out);
}
