/**
 * 2-D convolution: conv2d and the two backward ops its rule calls (src/autograd/rules/conv.ts), which are ordinary
 * recorded ops, so gradients flow through them too (the input gradient of a CNN is itself differentiable); and the
 * bias gradient. The geometry (output sizes, PyTorch's formulas and checks) is worked out here once; the kernels
 * receive it whole.
 */
import type { Conv2dGeom } from '../../kernels/backend.js';
import { check, fmtShape } from '../../core/errors.js';
import { record } from '../autograd-seam.js';
import { Tensor } from '../tensor.js';
import { sum } from './reduce.js';
import { type Pair, assertFloat, outSize, pair, sameDevice, withContiguous } from './util.js';

export interface Conv2dOptions { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }

export function conv2dGeometry(x: readonly number[], w: readonly number[], opts: Conv2dOptions = {}): Conv2dGeom {
  const op = 'conv2d';
  check(x.length === 4, op, () => `input must be [N, C, H, W], got ${fmtShape(x)} (add a batch dimension with unsqueeze(0))`);
  check(w.length === 4, op, () => `weight must be [outChannels, inChannels/groups, kH, kW], got ${fmtShape(w)}`);
  const [strideH, strideW] = pair(op, 'stride', opts.stride ?? 1, 1);
  const [padH, padW] = pair(op, 'padding', opts.padding ?? 0, 0);
  const [dilationH, dilationW] = pair(op, 'dilation', opts.dilation ?? 1, 1);
  const groups = opts.groups ?? 1;
  const [batch, inC, inH, inW] = x;
  const [outC, cg, kH, kW] = w;
  check(Number.isInteger(groups) && groups >= 1 && inC % groups === 0 && outC % groups === 0, op,
    () => `groups=${groups} must divide both the input channels (${inC}) and the output channels (${outC})`);
  check(cg * groups === inC, op,
    () => `input ${fmtShape(x)} has ${inC} channels but weight ${fmtShape(w)} expects ${cg * groups} ` +
      `(${cg} per group × ${groups} group${groups > 1 ? 's' : ''}); the weight's second dimension must be inChannels/groups`);
  check(kH >= 1 && kW >= 1, op, `the kernel size must be at least 1×1, got ${kH}×${kW}`);
  const outH = outSize(inH, kH, strideH, padH, dilationH), outW = outSize(inW, kW, strideW, padW, dilationW);
  check(outH >= 1 && outW >= 1, op,
    () => `the kernel (${kH}×${kW}, dilation ${dilationH}×${dilationW}) is larger than the padded input ` +
      `(${inH + 2 * padH}×${inW + 2 * padW} from ${fmtShape(x)} with padding ${padH}×${padW}); pad more or use a smaller kernel`);
  return { batch, inC, inH, inW, outC, kH, kW, outH, outW, strideH, strideW, padH, padW, dilationH, dilationW, groups };
}

/** 2-D convolution (cross-correlation, as PyTorch): x [N,C,H,W], weight [O, C/groups, kH, kW], bias [O] → [N,O,outH,outW]. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  assertFloat('conv2d', x, 'input');
  assertFloat('conv2d', weight, 'weight');
  const geom = conv2dGeometry(x.shape, weight.shape, opts);
  if (bias) {
    assertFloat('conv2d', bias, 'bias');
    check(bias.ndim === 1 && bias.shape[0] === geom.outC, 'conv2d',
      () => `bias must be [${geom.outC}] (one per output channel), got ${fmtShape(bias.shape)}`);
  }
  return conv2dWithGeometry(x, weight, bias, geom);
}

/** conv2d with its geometry already worked out (the backward rules use it: the same geometry serves all three ops). */
export function conv2dWithGeometry(x: Tensor, weight: Tensor, bias: Tensor | null, geom: Conv2dGeom): Tensor {
  const want = [geom.batch, geom.inC, geom.inH, geom.inW];
  check(x.ndim === 4 && want.every((d, i) => d === x.shape[i]), 'conv2d', () => `input must be ${fmtShape(want)}, got ${fmtShape(x.shape)}`);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  sameDevice('conv2d', ...inputs);
  const storage = withContiguous(inputs, (xc, wc, bc) => x.storage.backend.conv2d(xc.storage, wc.storage, bc ? bc.storage : null, geom));
  const out = Tensor.fromStorage(storage, [geom.batch, geom.outC, geom.outH, geom.outW]);
  return record('conv2d', inputs, out, { geom });
}

function checkGradOut(op: string, gradOut: Tensor, g: Conv2dGeom): void {
  assertFloat(op, gradOut, 'gradOut');
  const want = [g.batch, g.outC, g.outH, g.outW];
  check(gradOut.shape.length === 4 && want.every((d, i) => d === gradOut.shape[i]), op,
    () => `gradOut must be ${fmtShape(want)} (the conv's output shape), got ${fmtShape(gradOut.shape)}`);
}

/** The gradient of conv2d with respect to its input: [N,O,outH,outW] × weight → [N,C,H,W]. Linear in both. */
export function conv2dBackwardInput(gradOut: Tensor, weight: Tensor, geom: Conv2dGeom): Tensor {
  checkGradOut('conv2dBackwardInput', gradOut, geom);
  sameDevice('conv2dBackwardInput', gradOut, weight);
  const s = withContiguous([gradOut, weight], (gd, wd) => gradOut.storage.backend.conv2dBackwardInput(gd.storage, wd.storage, geom));
  const out = Tensor.fromStorage(s, [geom.batch, geom.inC, geom.inH, geom.inW]);
  return record('conv2dBackwardInput', [gradOut, weight], out, { geom });
}

/** The gradient of conv2d with respect to its weight: x × gradOut → [O, C/groups, kH, kW]. Linear in both. */
export function conv2dBackwardWeight(x: Tensor, gradOut: Tensor, geom: Conv2dGeom): Tensor {
  checkGradOut('conv2dBackwardWeight', gradOut, geom);
  sameDevice('conv2dBackwardWeight', x, gradOut);
  const s = withContiguous([x, gradOut], (xd, gd) => x.storage.backend.conv2dBackwardWeight(xd.storage, gd.storage, geom));
  const out = Tensor.fromStorage(s, [geom.outC, geom.inC / geom.groups, geom.kH, geom.kW]);
  return record('conv2dBackwardWeight', [x, gradOut], out, { geom });
}

/**
 * The bias gradient of a conv: gradOut summed over batch and pixels, as two reductions of adjacent axes (no copies).
 * The batch goes first: that sum has many outputs (one per channel and pixel), each a short strided walk — the cheap
 * case for the reduce kernel — and leaves only O rows of outH·outW to sum. (Pixels first would be a few long
 * reductions per image, which need a workgroup each.)
 */
export function conv2dBackwardBias(gradOut: Tensor): Tensor {
  const perPixel = sum(gradOut, 0);
  const out = sum(perPixel, [1, 2]);
  if (!perPixel.requiresGrad) perPixel.dispose();
  return out;
}
