/**
 * The fused linear layer: one matmul whose epilogue adds the bias and applies the ReLU, plain or stacked (an ensemble
 * of layers). Its backward rule is in src/autograd/rules/linear.ts.
 */
import { check, fmtShape } from '../../core/errors.js';
import { record } from '../autograd-seam.js';
import { Tensor } from '../tensor.js';
import { assertFloat, sameDevice, withContiguous } from './util.js';

/**
 * y = x·Wᵀ + b (then ReLU when `relu`), with W [out, in] and b [out] as PyTorch lays them out, in one matmul whose
 * epilogue adds the bias and applies the ReLU: no separate passes over the output. x may have any leading dimensions.
 *
 * Stacked form (an ensemble of N layers): W [N, out, in], b [N, out], and x either [B, in] (the same inputs for every
 * member) or [N, B, in] (its own for each); y is [N, B, out], member n computed with W[n] and b[n] only. Still one
 * matmul: the batch dimension walks the members, and the epilogue reads member n's bias.
 */
export function fusedLinear(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: { relu?: boolean } = {}): Tensor {
  const op = 'fusedLinear';
  assertFloat(op, x, 'input');
  assertFloat(op, weight, 'weight');
  check(weight.ndim === 2 || weight.ndim === 3, op, () => `weight must be [out, in] (or stacked [N, out, in]), got ${fmtShape(weight.shape)}`);
  const stacked = weight.ndim === 3;
  const [members, outF, inF] = stacked ? weight.shape : [1, ...weight.shape];
  check(x.ndim >= 1 && x.shape[x.ndim - 1] === inF, op,
    () => `the input's last dimension is ${x.shape[x.ndim - 1]} (shape ${fmtShape(x.shape)}) but weight ${fmtShape(weight.shape)} expects ${inF}`);
  check(!stacked || x.ndim === 2 || (x.ndim === 3 && x.shape[0] === members), op,
    () => `a stacked weight ${fmtShape(weight.shape)} takes inputs [B, ${inF}] or [${members}, B, ${inF}], got ${fmtShape(x.shape)}`);
  const inputs = [x, weight];
  if (bias) {
    assertFloat(op, bias, 'bias');
    const want = stacked ? [members, outF] : [outF];
    check(bias.ndim === want.length && bias.shape.every((d, i) => d === want[i]), op,
      () => `bias must be ${fmtShape(want)}, got ${fmtShape(bias.shape)}`);
    inputs.push(bias);
  }
  sameDevice(op, ...inputs);
  const shared = !stacked || x.ndim === 2;
  const rows = shared ? x.size / Math.max(inF, 1) : x.shape[1];
  const [swb, swo, swi] = stacked ? weight.strides : [0, ...weight.strides];
  const s = withContiguous([x, ...(bias ? [bias] : [])], (xc, bc) => x.storage.backend.matmul(
    { storage: xc.storage, shape: [members, rows, inF], strides: [shared ? 0 : rows * inF, inF, 1], offset: 0 },
    // Wᵀ read in place: element (k, n) of member p's Wᵀ is W[p, n, k]
    { storage: weight.storage, shape: [members, inF, outF], strides: [swb, swi, swo], offset: weight.offset },
    members, rows, inF, outF, { bias: bc ? bc.storage : null, biasBatchStride: stacked ? outF : 0, relu: opts.relu === true }));
  const out = Tensor.fromStorage(s, stacked ? [members, rows, outF] : [...x.shape.slice(0, -1), outF]);
  return record(op, inputs, out, { relu: opts.relu === true });
}
