/**
 * Max pooling, and the two ops of its gradients (src/autograd/rules/pool.ts): maxPool2dBackward routes a gradient to
 * the chosen elements, poolGather reads at them; each is the other's adjoint, so derivatives of any order stay two
 * kernels.
 */
import type { Pool2dGeom } from '../../kernels/backend.js';
import { check, fmtShape } from '../../core/errors.js';
import { record } from '../autograd-seam.js';
import { Tensor } from '../tensor.js';
import { type Pair, assertFloat, outSize, pair, withContiguous } from './util.js';

export interface Pool2dOptions { stride?: Pair; padding?: Pair }

export function pool2dGeometry(x: readonly number[], kernelSize: Pair, opts: Pool2dOptions = {}): Pool2dGeom {
  const op = 'maxPool2d';
  check(x.length === 4, op, () => `input must be [N, C, H, W], got ${fmtShape(x)}`);
  const [kH, kW] = pair(op, 'kernelSize', kernelSize, 1);
  const [strideH, strideW] = pair(op, 'stride', opts.stride ?? [kH, kW], 1);
  const [padH, padW] = pair(op, 'padding', opts.padding ?? 0, 0);
  check(2 * padH <= kH && 2 * padW <= kW, op,
    () => `padding (${padH}×${padW}) must be at most half the kernel size (${kH}×${kW})`);
  const [batch, channels, inH, inW] = x;
  const outH = outSize(inH, kH, strideH, padH, 1), outW = outSize(inW, kW, strideW, padW, 1);
  check(outH >= 1 && outW >= 1, op,
    () => `the kernel (${kH}×${kW}) is larger than the padded input (${inH + 2 * padH}×${inW + 2 * padW} from ${fmtShape(x)})`);
  return { batch, channels, inH, inW, outH, outW, kH, kW, strideH, strideW, padH, padW };
}

/** Max pooling (floor mode). Ties go to the first maximum in scan order; padding never wins. */
export function maxPool2d(x: Tensor, kernelSize: Pair, opts: Pool2dOptions = {}): Tensor {
  assertFloat('maxPool2d', x, 'input');
  const geom = pool2dGeometry(x.shape, kernelSize, opts);
  const r = withContiguous([x], (xd) => x.storage.backend.maxPool2d(xd.storage, geom));
  const shape = [geom.batch, geom.channels, geom.outH, geom.outW];
  const out = Tensor.fromStorage(r.out, shape);
  const indices = Tensor.fromStorage(r.indices, shape);
  record('maxPool2d', [x], out, { geom, indices });
  if (out.gradFn === null) indices.dispose(); // not recorded: nothing will need the indices
  return out;
}

/** Routes gradOut [N,C,outH,outW] back to the elements the pool chose: dx [N,C,H,W]. Linear in gradOut. */
export function maxPool2dBackward(gradOut: Tensor, indices: Tensor, geom: Pool2dGeom): Tensor {
  assertFloat('maxPool2dBackward', gradOut, 'gradOut');
  const s = withContiguous([gradOut, indices], (gd, id) => gradOut.storage.backend.maxPool2dBackward(gd.storage, id.storage, geom));
  const out = Tensor.fromStorage(s, [geom.batch, geom.channels, geom.inH, geom.inW]);
  return record('maxPool2dBackward', [gradOut], out, { geom, indices });
}

/** x [N,C,H,W] read at the pool's indices → [N,C,outH,outW] (maxPool2dBackward's adjoint). */
export function poolGather(x: Tensor, indices: Tensor, geom: Pool2dGeom): Tensor {
  assertFloat('poolGather', x, 'input');
  const s = withContiguous([x, indices], (xd, id) => x.storage.backend.poolGather(xd.storage, id.storage, geom));
  const out = Tensor.fromStorage(s, [geom.batch, geom.channels, geom.outH, geom.outW]);
  return record('poolGather', [x], out, { geom, indices });
}
