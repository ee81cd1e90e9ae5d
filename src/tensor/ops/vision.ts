/**
 * The vision ops: conv2d, maxPool2d, dropout, crossEntropy and countCorrect, with the backward ops their rules call
 * (src/autograd/rules/vision.ts). The backward ops are ordinary recorded tensor ops, so gradients flow through them
 * too: the input gradient of a CNN is itself differentiable.
 *
 * Geometry (output sizes, PyTorch's formulas and checks) is worked out here once; the kernels receive it whole.
 */
import type { Conv2dGeom, Pool2dGeom } from '../../kernels/backend.js';
import { check, fmtShape } from '../../kernels/errors.js';
import { record } from '../autograd-seam.js';
import { type Generator, defaultGenerator } from '../random.js';
import { Tensor } from '../tensor.js';
import { assertTensor } from './util.js';
import { sum } from './reduce.js';
import { mul, where } from './elementwise.js';
import { reshape, transpose } from './views.js';

export type Pair = number | readonly [number, number];

export interface Conv2dOptions { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }
export interface Pool2dOptions { stride?: Pair; padding?: Pair }

/** A size given as one number or [h, w], checked: integers ≥ min. */
export function pair(op: string, name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : [NaN, NaN];
  check(p.length === 2 && p.every((x) => Number.isInteger(x) && x >= min), op,
    () => `${name} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  return p;
}

/** PyTorch's output size: floor((in + 2·pad − dilation·(k − 1) − 1) / stride) + 1. */
const outSize = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

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

/** A contiguous tensor that starts at its storage's first element (what the kernels read), copying only if needed. */
function dense(t: Tensor): Tensor {
  return t.isContiguous && t.offset === 0 ? t : Tensor.fromStorage(t.storage.backend.copy(t.view()), t.shape);
}

function float(op: string, t: Tensor, what: string): void {
  assertTensor(op, t, what);
  check(t.dtype !== 'int32', op, () => `${what} must be floating point, got int32 ${fmtShape(t.shape)}; use .cast('float32')`);
}

function sameDevice(op: string, ...ts: Tensor[]): void {
  for (const t of ts.slice(1)) {
    check(t.device === ts[0].device, op,
      () => `tensors are on different devices (${ts[0].device} ${fmtShape(ts[0].shape)} and ${t.device} ${fmtShape(t.shape)}); move one with .to()`);
    check(t.dtype === ts[0].dtype || t.dtype === 'int32' || ts[0].dtype === 'int32', op,
      () => `dtypes differ (${ts[0].dtype} and ${t.dtype}); cast one`);
  }
}

/** Runs `f` on dense copies of `ts`, disposing the copies it made. */
function withDense<R>(ts: Tensor[], f: (...d: Tensor[]) => R): R {
  const d = ts.map(dense);
  try { return f(...d); } finally { d.forEach((x, i) => { if (x !== ts[i]) x.dispose(); }); }
}

// ---- conv2d -------------------------------------------------------------------------------------------------------

/** 2-D convolution (cross-correlation, as PyTorch): x [N,C,H,W], weight [O, C/groups, kH, kW], bias [O] → [N,O,outH,outW]. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  float('conv2d', x, 'input');
  float('conv2d', weight, 'weight');
  const geom = conv2dGeometry(x.shape, weight.shape, opts);
  if (bias) {
    float('conv2d', bias, 'bias');
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
  const storage = withDense(inputs, (xd, wd, bd) => x.storage.backend.conv2d(xd.storage, wd.storage, bd ? bd.storage : null, geom));
  const out = Tensor.fromStorage(storage, [geom.batch, geom.outC, geom.outH, geom.outW]);
  return record('conv2d', inputs, out, { geom });
}

function checkGradOut(op: string, gradOut: Tensor, g: Conv2dGeom): void {
  float(op, gradOut, 'gradOut');
  const want = [g.batch, g.outC, g.outH, g.outW];
  check(gradOut.shape.length === 4 && want.every((d, i) => d === gradOut.shape[i]), op,
    () => `gradOut must be ${fmtShape(want)} (the conv's output shape), got ${fmtShape(gradOut.shape)}`);
}

/** The gradient of conv2d with respect to its input: [N,O,outH,outW] × weight → [N,C,H,W]. Linear in both. */
export function conv2dBackwardInput(gradOut: Tensor, weight: Tensor, geom: Conv2dGeom): Tensor {
  checkGradOut('conv2dBackwardInput', gradOut, geom);
  sameDevice('conv2dBackwardInput', gradOut, weight);
  const s = withDense([gradOut, weight], (gd, wd) => gradOut.storage.backend.conv2dBackwardInput(gd.storage, wd.storage, geom));
  const out = Tensor.fromStorage(s, [geom.batch, geom.inC, geom.inH, geom.inW]);
  return record('conv2dBackwardInput', [gradOut, weight], out, { geom });
}

/** The gradient of conv2d with respect to its weight: x × gradOut → [O, C/groups, kH, kW]. Linear in both. */
export function conv2dBackwardWeight(x: Tensor, gradOut: Tensor, geom: Conv2dGeom): Tensor {
  checkGradOut('conv2dBackwardWeight', gradOut, geom);
  sameDevice('conv2dBackwardWeight', x, gradOut);
  const s = withDense([x, gradOut], (xd, gd) => x.storage.backend.conv2dBackwardWeight(xd.storage, gd.storage, geom));
  const out = Tensor.fromStorage(s, [geom.outC, geom.inC / geom.groups, geom.kH, geom.kW]);
  return record('conv2dBackwardWeight', [x, gradOut], out, { geom });
}

// ---- maxPool2d ----------------------------------------------------------------------------------------------------

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
  float('maxPool2d', x, 'input');
  const geom = pool2dGeometry(x.shape, kernelSize, opts);
  const r = withDense([x], (xd) => x.storage.backend.maxPool2d(xd.storage, geom));
  const shape = [geom.batch, geom.channels, geom.outH, geom.outW];
  const out = Tensor.fromStorage(r.out, shape);
  const indices = Tensor.fromStorage(r.indices, shape);
  record('maxPool2d', [x], out, { geom, indices });
  if (out.gradFn === null) indices.dispose(); // not recorded: nothing will need the indices
  return out;
}

/** Routes gradOut [N,C,outH,outW] back to the elements the pool chose: dx [N,C,H,W]. Linear in gradOut. */
export function maxPool2dBackward(gradOut: Tensor, indices: Tensor, geom: Pool2dGeom): Tensor {
  float('maxPool2dBackward', gradOut, 'gradOut');
  const s = withDense([gradOut, indices], (gd, id) => gradOut.storage.backend.maxPool2dBackward(gd.storage, id.storage, geom));
  const out = Tensor.fromStorage(s, [geom.batch, geom.channels, geom.inH, geom.inW]);
  return record('maxPool2dBackward', [gradOut], out, { geom, indices });
}

/** x [N,C,H,W] read at the pool's indices → [N,C,outH,outW] (maxPool2dBackward's adjoint). */
export function poolGather(x: Tensor, indices: Tensor, geom: Pool2dGeom): Tensor {
  float('poolGather', x, 'input');
  const s = withDense([x, indices], (xd, id) => x.storage.backend.poolGather(xd.storage, id.storage, geom));
  const out = Tensor.fromStorage(s, [geom.batch, geom.channels, geom.outH, geom.outW]);
  return record('poolGather', [x], out, { geom, indices });
}

// ---- dropout ------------------------------------------------------------------------------------------------------

/**
 * Inverted dropout: in training, zeroes each element with probability p and scales the rest by 1/(1 − p); in eval,
 * returns x itself. The mask is drawn on the device from a seed taken from `generator`, and never stored: backward
 * applies the same seeded mask to the gradient.
 */
export function dropout(x: Tensor, p: number, training: boolean, generator: Generator = defaultGenerator): Tensor {
  float('dropout', x, 'input');
  check(typeof p === 'number' && p >= 0 && p <= 1, 'dropout', `p must be a probability in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return mul(x, 0);
  return dropoutWithSeed(x, p, [generator.nextU32(), generator.nextU32()]);
}

/** Dropout with an explicit seed: the same seed gives the same mask (its own gradient). */
export function dropoutWithSeed(x: Tensor, p: number, seed: readonly [number, number]): Tensor {
  const s = withDense([x], (xd) => x.storage.backend.dropout(xd.storage, p, seed));
  return record('dropout', [x], Tensor.fromStorage(s, x.shape), { p, seed });
}

// ---- classification -----------------------------------------------------------------------------------------------

function checkLogitsLabels(op: string, logits: Tensor, labels: Tensor): [number, number] {
  float(op, logits, 'logits');
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
  const s = withDense([logits, labels], (ld, yd) => logits.storage.backend.crossEntropy(ld.storage, yd.storage, batch, classes));
  return record('crossEntropy', [logits], Tensor.fromStorage(s, []), { labels });
}

/** (softmax(logits) − onehot(labels)) · gradOut / batch: crossEntropy's gradient, in one fused kernel. */
export function crossEntropyBackward(logits: Tensor, labels: Tensor, gradOut: Tensor): Tensor {
  const [batch, classes] = checkLogitsLabels('crossEntropyBackward', logits, labels);
  check(gradOut.size === 1, 'crossEntropyBackward', () => `gradOut must be a scalar, got ${fmtShape(gradOut.shape)}`);
  sameDevice('crossEntropyBackward', logits, gradOut);
  const s = withDense([logits, labels, gradOut], (ld, yd, gd) =>
    logits.storage.backend.crossEntropyBackward(ld.storage, yd.storage, gd.storage, batch, classes));
  return record('crossEntropyBackward', [logits, gradOut], Tensor.fromStorage(s, logits.shape), { labels });
}

/** How many rows' argmax equals their label, as an int32 scalar on the device (read one number, not the logits). */
export function countCorrect(logits: Tensor, labels: Tensor): Tensor {
  const [batch, classes] = checkLogitsLabels('countCorrect', logits, labels);
  const s = withDense([logits, labels], (ld, yd) => logits.storage.backend.countCorrect(ld.storage, yd.storage, batch, classes));
  return Tensor.fromStorage(s, []);
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

// ---- fused linear layer ----------------------------------------------------------------------------------------------

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
  float(op, x, 'input');
  float(op, weight, 'weight');
  check(weight.ndim === 2 || weight.ndim === 3, op, () => `weight must be [out, in] (or stacked [N, out, in]), got ${fmtShape(weight.shape)}`);
  const stacked = weight.ndim === 3;
  const [members, outF, inF] = stacked ? weight.shape : [1, ...weight.shape];
  check(x.ndim >= 1 && x.shape[x.ndim - 1] === inF, op,
    () => `the input's last dimension is ${x.shape[x.ndim - 1]} (shape ${fmtShape(x.shape)}) but weight ${fmtShape(weight.shape)} expects ${inF}`);
  check(!stacked || x.ndim === 2 || (x.ndim === 3 && x.shape[0] === members), op,
    () => `a stacked weight ${fmtShape(weight.shape)} takes inputs [B, ${inF}] or [${members}, B, ${inF}], got ${fmtShape(x.shape)}`);
  const inputs = [x, weight];
  if (bias) {
    float(op, bias, 'bias');
    const want = stacked ? [members, outF] : [outF];
    check(bias.ndim === want.length && bias.shape.every((d, i) => d === want[i]), op,
      () => `bias must be ${fmtShape(want)}, got ${fmtShape(bias.shape)}`);
    inputs.push(bias);
  }
  sameDevice(op, ...inputs);
  const shared = !stacked || x.ndim === 2;
  const rows = shared ? x.size / Math.max(inF, 1) : x.shape[1];
  const [swb, swo, swi] = stacked ? weight.strides : [0, ...weight.strides];
  const s = withDense([x, ...(bias ? [bias] : [])], (xd, bd) => x.storage.backend.matmul(
    { storage: xd.storage, shape: [members, rows, inF], strides: [shared ? 0 : rows * inF, inF, 1], offset: 0 },
    // Wᵀ read in place: element (k, n) of member p's Wᵀ is W[p, n, k]
    { storage: weight.storage, shape: [members, inF, outF], strides: [swb, swi, swo], offset: weight.offset },
    members, rows, inF, outF, { bias: bd ? bd.storage : null, biasBatchStride: stacked ? outF : 0, relu: opts.relu === true }));
  const out = Tensor.fromStorage(s, stacked ? [members, rows, outF] : [...x.shape.slice(0, -1), outF]);
  return record(op, inputs, out, { relu: opts.relu === true });
}

/** fusedLinear's gradients, from differentiable ops (so they can be differentiated again). */
export function fusedLinearBackward(g: Tensor, x: Tensor, weight: Tensor, out: Tensor, relu: boolean, needs: readonly boolean[]): (Tensor | null)[] {
  // ReLU's derivative as a mask read from the output (out > 0 exactly where out ≠ 0): one pass, and not recorded, so a
  // second differentiation treats it as the constant it is almost everywhere
  const gz = relu ? where(out.detach(), g, 0) : g;
  if (weight.ndim === 3) {
    // stacked: gz [N, B, out]; x [B, in] (shared by the members: its gradient sums theirs) or [N, B, in]
    const dx = needs[0] ? gz.matmul(weight) : null;
    return [
      dx && x.ndim === 2 ? sum(dx, 0) : dx,
      needs[1] ? transpose(gz, 1, 2).matmul(x) : null,
      needs[2] ? sum(gz, 1) : null,
    ];
  }
  const [outF, inF] = weight.shape;
  const g2 = reshape(gz, [-1, outF]);
  return [
    needs[0] ? reshape(g2.matmul(weight), x.shape) : null,
    needs[1] ? g2.T.matmul(reshape(x, [-1, inF])) : null,
    needs[2] ? sum(g2, 0) : null,
  ];
}

