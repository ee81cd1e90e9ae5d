/**
 * Many small models at once. `MLPEnsemble` holds N independent MLPs of one architecture as stacked parameters — each
 * weight is [N, out, in], each bias [N, out] — and runs them in lockstep: one batched matmul per layer serves all N
 * models, so a training step of 100 networks costs about what one costs (on a GPU the per-dispatch overhead, not the
 * arithmetic, is what a 571-parameter network pays for).
 *
 * Why the models stay independent: the ensemble's loss is the SUM of the per-model losses, and model n's parameters
 * enter only model n's loss, so ∂(Σₘ Lₘ)/∂θₙ = ∂Lₙ/∂θₙ exactly. Adam is elementwise, so its stacked state is N
 * separate states. The Hessian of the sum is block-diagonal: one Hessian-vector product of the ensemble gives every
 * model's H·v at once, and P of them give all N Hessians (`ensembleHessian`).
 *
 * Member n is initialised from its own generator exactly as `new Sequential(new Linear(...), new ReLU(), ...)` would
 * be with that generator, so a member trained in the ensemble matches the same network trained alone.
 */
import { Tensor } from '../tensor/tensor.js';
import { assertTensor, releaseIntermediates } from '../tensor/ops/util.js';
import { check, fmtShape } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { tensor } from '../tensor/creation.js';
import { tidy } from '../tensor/memory.js';
import { add, concat, fusedLinear, mean, reshape, slice, sqrt, square, stack, sub, sum } from '../tensor/ops/index.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { grad } from '../autograd/functional.js';
import { noGrad } from '../autograd/graph.js';
import { copyInto } from './assign.js';
import type { LayerOptions } from './init.js';
import { Linear, ReLU, Sequential } from './layers.js';
import { Module } from './module.js';
// for the per-model losses and metrics at the end of the file (a namespace, so no name clashes with the list above)
import * as creation from '../tensor/creation.js';
import * as ops from '../tensor/ops/index.js';

export interface EnsembleOptions extends LayerOptions {
  /** one generator per member (default: all members draw in turn from `generator`, or the global generator) */
  generators?: readonly Generator[];
}

export class MLPEnsemble extends Module {
  /** weights[l]: [N, sizes[l+1], sizes[l]] */
  readonly weights: Tensor[] = [];
  /** biases[l]: [N, sizes[l+1]] */
  readonly biases: Tensor[] = [];

  /**
   * `count` MLPs with layer widths `sizes` (e.g. [1, 5, 10, 10, 10, 10, 10, 5, 1]), ReLU between layers, linear output.
   * Parameter keys follow the equivalent Sequential's (`0.weight`, `2.weight`, ...) with the model dimension first.
   */
  constructor(readonly count: number, readonly sizes: readonly number[], opts: EnsembleOptions = {}) {
    super();
    check(Number.isInteger(count) && count > 0, 'MLPEnsemble', `count must be a positive integer, got ${count}`);
    check(Array.isArray(sizes) && sizes.length >= 2 && sizes.every((s) => Number.isInteger(s) && s > 0), 'MLPEnsemble',
      () => `sizes must list at least an input and an output width, got [${sizes}]`);
    check(!opts.generators || opts.generators.length === count, 'MLPEnsemble',
      () => `got ${opts.generators?.length} generators for ${count} models; give one per model`);
    const layers = sizes.length - 1;
    // Draw each member's numbers in the order a Sequential of Linear layers draws them: weight, bias, next layer...
    const w = Array.from({ length: layers }, (_, l) => new Float64Array(count * sizes[l + 1] * sizes[l]));
    const b = Array.from({ length: layers }, (_, l) => new Float64Array(count * sizes[l + 1]));
    for (let n = 0; n < count; n++) {
      const gen = opts.generators?.[n] ?? opts.generator ?? defaultGenerator;
      for (let l = 0; l < layers; l++) {
        const bound = 1 / Math.sqrt(sizes[l]);
        const draw = (out: Float64Array, len: number) => {
          for (let i = 0; i < len; i++) out[n * len + i] = -bound + (bound - -bound) * gen.random();
        };
        draw(w[l], sizes[l + 1] * sizes[l]);
        draw(b[l], sizes[l + 1]);
      }
    }
    const dtype = opts.dtype ?? 'float32';
    for (let l = 0; l < layers; l++) {
      this.weights.push(this.registerParameter(`${2 * l}.weight`, tensor(w[l], { shape: [count, sizes[l + 1], sizes[l]], device: opts.device, dtype }))!);
      this.biases.push(this.registerParameter(`${2 * l}.bias`, tensor(b[l], { shape: [count, sizes[l + 1]], device: opts.device, dtype }))!);
    }
  }

  /** x: [B, in] (the same inputs for every model) or [N, B, in]; returns [N, B, out]. */
  forward(x: Tensor): Tensor {
    check(x.shape[x.ndim - 1] === this.sizes[0] && (x.ndim === 2 || (x.ndim === 3 && x.shape[0] === this.count)), 'MLPEnsemble',
      () => `expects inputs [B, ${this.sizes[0]}] or [${this.count}, B, ${this.sizes[0]}], got ${fmtShape(x.shape)}`);
    // one matmul per layer for all N members; its epilogue adds member n's bias and applies the ReLU
    let h = x;
    const last = this.weights.length - 1;
    this.weights.forEach((w, l) => {
      const next = fusedLinear(h, w, this.biases[l], { relu: l < last });
      if (h !== x && !h.requiresGrad) h.dispose();
      h = next;
    });
    return h;
  }

  /** Member n as a standalone Sequential (a copy of its parameters). */
  member(n: number): Sequential {
    check(Number.isInteger(n) && n >= 0 && n < this.count, 'MLPEnsemble.member', `index ${n} is outside 0..${this.count - 1}`);
    const device = this.weights[0].device, dtype = this.weights[0].dtype;
    const mods: (Linear | ReLU)[] = [];
    this.weights.forEach((w, l) => {
      const lin = new Linear(this.sizes[l], this.sizes[l + 1], { device, dtype });
      noGrad(() => tidy(() => {
        copyInto(lin.weight, reshape(slice(w, 0, n, n + 1), lin.weight.shape));
        copyInto(lin.bias!, reshape(slice(this.biases[l], 0, n, n + 1), lin.bias!.shape));
      }));
      mods.push(lin);
      if (l < this.weights.length - 1) mods.push(new ReLU());
    });
    return new Sequential(...mods);
  }

  protected override extraRepr() { return `count=${this.count}, sizes=[${this.sizes}]`; }
}

/** Per-model mean squared error: pred [N, B, out] against target [B, out] (or [N, B, out]) → [N]. */
export function ensembleMSE(pred: Tensor, target: Tensor): Tensor {
  assertTensor('ensembleMSE', pred, 'the prediction');
  assertTensor('ensembleMSE', target, 'the target');
  check(pred.ndim === 3, 'ensembleMSE', () => `expects predictions [N, B, out], got ${fmtShape(pred.shape)}`);
  const d = sub(pred, target), sq = square(d);
  const out = mean(sq, [1, 2]);
  releaseIntermediates(out, d, sq);
  return out;
}

/**
 * Per-model L2 norm over a list of stacked tensors (gradients or parameters), each [N, ...] → [N]. With `squared`,
 * the sum of squares (differentiable everywhere, also at 0 — what ½‖∇L‖² minimisation needs).
 */
export function perModelNorm(tensors: readonly Tensor[], { squared = false } = {}): Tensor {
  check(Array.isArray(tensors) && tensors.length > 0 && tensors.every((t) => t instanceof Tensor), 'perModelNorm',
    'needs a non-empty array of tensors');
  const n = tensors[0].shape[0];
  tensors.forEach((t) => check(t.ndim >= 1 && t.shape[0] === n, 'perModelNorm',
    () => `every tensor needs the model dimension first (${n}); got ${fmtShape(t.shape)}`));
  // one [N, P] row per model, then one square and one sum: a handful of dispatches instead of three per tensor (and
  // as few again when it is differentiated: concat's gradient is a set of views)
  const rows = tensors.map((t) => reshape(t, [n, -1]));
  const flat = rows.length === 1 ? rows[0] : concat(rows, 1);
  const sq = square(flat), total = sum(sq, 1);
  const out = squared ? total : sqrt(total);
  releaseIntermediates(out, ...new Set([...rows, flat, sq, total].filter((t) => !tensors.includes(t))));
  return out;
}

/**
 * Every member's full Hessian at once: [N, P, P] for N stacked models of P parameters each. `loss` must be the sum
 * of the per-model losses of `params` (each [N, ...]). The gradient graph is built once; each of the P backward passes
 * over it differentiates parameter k of every model together (the Hessian of the sum is block-diagonal), so the cost
 * is that of one model's Hessian, not N of them.
 */
export function ensembleHessian(loss: () => Tensor, params: readonly Tensor[]): Tensor {
  check(typeof loss === 'function', 'ensembleHessian', 'needs the loss as a function of no arguments');
  check(Array.isArray(params) && params.length > 0 && params.every((p) => p instanceof Tensor), 'ensembleHessian',
    'needs the stacked parameters (an array of tensors)');
  const count = params[0].shape[0];
  params.forEach((p) => check(p.shape[0] === count && p.requiresGrad, 'ensembleHessian',
    () => `every parameter needs the model dimension first (${count}) and requiresGrad; got ${fmtShape(p.shape)}`));
  return tidy(() => {
    const g = grad(loss(), params, { createGraph: true, allowUnused: true });
    const flat = concat(g.map((t) => reshape(t, [count, sizeOf(t.shape.slice(1))])), 1); // [N, P]
    const P = flat.shape[1];
    const rows: Tensor[] = [];
    for (let k = 0; k < P; k++) {
      rows.push(tidy(() => {
        const h = grad(sum(slice(flat, 1, k, k + 1)), params, { retainGraph: true, allowUnused: true });
        return concat(h.map((t) => reshape(t, [count, sizeOf(t.shape.slice(1))])), 1); // row k of every model
      }));
    }
    return stack(rows, 1); // [N, P, P]
  });
}

// ---- per-model losses and metrics (the experiments' batched trainings) ---------------------------------------------
// Like ensembleMSE, these release their intermediates before returning, except those a recorded graph holds (which
// the caller's scope frees, after backward).

/** Checks int32 labels [N, B] (one row per model) or [B] (the same for every model) against logits [N, B, classes]. */
function checkEnsembleLabels(op: string, logits: Tensor, labels: Tensor): void {
  assertTensor(op, logits, 'logits');
  assertTensor(op, labels, 'labels');
  check(logits.ndim === 3, op, () => `expects logits [N, B, classes], got ${fmtShape(logits.shape)}`);
  check(labels.dtype === 'int32', op, `labels must be int32 class indices, got ${labels.dtype}; use labels.cast('int32')`);
  const [n, b] = logits.shape;
  check((labels.ndim === 2 && labels.shape[0] === n && labels.shape[1] === b) || (labels.ndim === 1 && labels.shape[0] === b), op,
    () => `labels must be [${n}, ${b}] (one row per model) or [${b}] (the same for every model), got ${fmtShape(labels.shape)}`);
  check(labels.device === logits.device, op, `the logits are on ${logits.device} but the labels on ${labels.device}`);
}

/**
 * Per-model mean cross-entropy: logits [N, B, C], int32 labels [N, B] (or [B] for every model) → [N], entry n equal to
 * F.crossEntropy(logits[n], labels[n]). Their sum is the ensemble's training loss: model n's logits enter entry n
 * only, so each model gets the gradient it would get alone. −mean_b Σ_c logSoftmax(logits)·onehot(labels), from
 * differentiable primitives.
 */
export function ensembleCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  checkEnsembleLabels('ensembleCrossEntropy', logits, labels);
  const classes = creation.arange(0, logits.shape[2], 1, { device: logits.device, dtype: 'int32' });
  const column = ops.unsqueeze(labels, -1), hits = ops.eq(column, classes);
  const oneHot = ops.cast(hits, logits.dtype); // [N or 1, B, C]
  const logp = ops.logSoftmax(logits, -1), picked = ops.mul(logp, oneHot);
  const perRow = ops.sum(picked, -1), perModel = ops.mean(perRow, -1);
  const out = ops.neg(perModel);
  releaseIntermediates(out, ...new Set([classes, column, hits, oneHot, logp, picked, perRow, perModel].filter((t) => t !== labels)));
  return out;
}

/** Per-model count of rows whose argmax is the label (the first maximum on ties, as countCorrect): int32 [N]. */
export function ensembleCountCorrect(logits: Tensor, labels: Tensor): Tensor {
  checkEnsembleLabels('ensembleCountCorrect', logits, labels);
  const best = ops.argmax(logits, -1), hits = ops.eq(best, labels);
  const out = ops.sum(hits, -1);
  releaseIntermediates(out, best, hits);
  return out;
}

/**
 * Per-model mean squared error over the rows a 0/1 `mask` [N, B] marks: pred [N, B, out], target [N, B, out] (or
 * [B, out]) → [N], entry n = mean over model n's marked rows and all outputs. Lets models whose datasets differ in
 * length train in one ensemble: pad the shorter inputs with rows of mask 0, which add exactly 0 to the loss and to
 * every gradient, so each model's loss and gradient are those of training on its own rows alone.
 */
export function ensembleMaskedMSE(pred: Tensor, target: Tensor, mask: Tensor): Tensor {
  check(pred.ndim === 3, 'ensembleMaskedMSE', () => `expects predictions [N, B, out], got ${fmtShape(pred.shape)}`);
  const [n, b, out] = pred.shape;
  check(mask.ndim === 2 && mask.shape[0] === n && mask.shape[1] === b, 'ensembleMaskedMSE',
    () => `the mask must be [${n}, ${b}] (1 = a row of model n's data, 0 = padding), got ${fmtShape(mask.shape)}`);
  const m = mask.dtype === pred.dtype ? mask : ops.cast(mask, pred.dtype);
  const d = ops.sub(pred, target), sq = ops.square(d), column = ops.unsqueeze(m, -1), masked = ops.mul(sq, column);
  const total = ops.sum(masked, [1, 2]), rows = ops.sum(m, 1), count = ops.mul(rows, out);
  const loss = ops.div(total, count);
  releaseIntermediates(loss, ...[d, sq, column, masked, total, rows, count, m].filter((t) => t !== mask));
  return loss;
}
