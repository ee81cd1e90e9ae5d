/**
 * Gradients as values: `grad` (like torch.autograd.grad), and the second-order tools built on it, `hvp` and
 * `hessian`. None of them touches `.grad`.
 *
 * Why second order comes for free: every backward rule is made of recorded ops, so with `createGraph: true` the
 * gradient g(θ) = ∇L(θ) is itself a tensor with a graph back to θ. Differentiating the scalar g(θ)·v once more gives
 * ∇(∇L·v) = H·v, a Hessian-vector product, at the cost of about two more backward passes.
 */
import { check, fmtShape } from '../core/errors.js';
import { shapesEqual, sizeOf } from '../core/shape.js';
import { zerosLike } from '../tensor/creation.js';
import { tidy } from '../tensor/memory.js';
import { add, clone, concat, mul, reshape, slice, stack, sum } from '../tensor/ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { runBackward, seedFor } from './backward.js';
import { noGrad } from './graph.js';

export interface GradOptions {
  /** the gradient of each output (default: 1 for one-element outputs) */
  gradOutputs?: Tensor | readonly Tensor[];
  /** record the backward pass so that the results can be differentiated again */
  createGraph?: boolean;
  /** keep the graph for another backward (default: createGraph) */
  retainGraph?: boolean;
  /** give zeros for inputs the outputs do not depend on, instead of an error */
  allowUnused?: boolean;
}

/**
 * The gradients of `outputs` with respect to `inputs`, returned (not added into `.grad`).
 * `outputs` may also be a function: `grad((x, y) => x.mul(y).sum(), [x, y])` calls it with the inputs (those that do
 * not require a gradient are replaced by leaves that do).
 */
export function grad(outputs: Tensor | readonly Tensor[] | ((...xs: Tensor[]) => Tensor), inputs: readonly Tensor[],
  options: GradOptions = {}): Tensor[] {
  check(Array.isArray(inputs) && inputs.every((x) => x instanceof Tensor), 'grad', 'inputs must be an array of tensors');
  let outs: readonly Tensor[];
  let targets = inputs;
  if (typeof outputs === 'function') {
    targets = inputs.map((x) => (x.requiresGrad ? x : x.detach().requiresGrad_()));
    const out = outputs(...targets);
    check(out instanceof Tensor, 'grad', `the function must return a Tensor, got ${typeof out}`);
    outs = [out];
  } else {
    outs = outputs instanceof Tensor ? [outputs] : outputs;
  }
  const given = options.gradOutputs === undefined ? [] : options.gradOutputs instanceof Tensor ? [options.gradOutputs] : options.gradOutputs;
  check(given.length === 0 || given.length === outs.length, 'grad',
    () => `got ${given.length} gradOutputs for ${outs.length} outputs; give one per output`);
  targets.forEach((x, i) => check(x.requiresGrad || options.allowUnused, 'grad',
    () => `input ${i} ${fmtShape(x.shape)} does not require a gradient; call requiresGrad_() on it before computing the outputs`));

  const live = outs.map((o, i) => ({ o, i })).filter(({ o }) => o.requiresGrad);
  const seeds = live.map(({ o, i }) => seedFor('grad', o, given[i]));
  const found = live.length ? runBackward(live.map(({ o }) => o), seeds, new Set(given), { ...options, targets }) : new Map();

  const seen = new Set<Tensor>();
  return targets.map((x, i) => {
    let g = found.get(x);
    if (!g) {
      check(options.allowUnused, 'grad', () => `input ${i} ${fmtShape(x.shape)} was not used to compute the outputs; ` +
        'pass {allowUnused: true} to get zeros for it');
      return zerosLike(x);
    }
    if (seen.has(g)) g = options.createGraph ? clone(g) : noGrad(() => clone(g!)); // the same input listed twice
    seen.add(g);
    return g;
  });
}

function checkParams(op: string, fn: unknown, params: readonly Tensor[]): void {
  check(typeof fn === 'function', op, () => `the first argument must be the function to differentiate, got ${typeof fn}`);
  check(Array.isArray(params) && params.length > 0, op, 'needs a non-empty array of parameters');
  params.forEach((p, i) => check(p instanceof Tensor, op, `parameter ${i} is not a Tensor`));
  params.forEach((p, i) => check(p.requiresGrad, op,
    () => `parameter ${i} ${fmtShape(p.shape)} does not require a gradient; call requiresGrad_() on it`));
}

/**
 * The Hessian of `fn` (a scalar function of `params`) times `v` (one tensor per parameter): H·v, as a list shaped like
 * `params`. `fn` is called with the parameters (a closure may ignore them).
 */
export function hvp(fn: (...params: Tensor[]) => Tensor, params: readonly Tensor[], v: readonly Tensor[]): Tensor[] {
  checkParams('hvp', fn, params);
  check(Array.isArray(v) && v.every((t) => t instanceof Tensor), 'hvp',
    () => `v must be an array of tensors, one per parameter (the direction of H·v), got ${v === null ? 'null' : typeof v}`);
  check(v.length === params.length && v.every((t, i) => shapesEqual(t.shape, params[i].shape)), 'hvp',
    () => `v must have one tensor per parameter with the same shapes: parameters ${params.map((p) => fmtShape(p.shape)).join(' ')}, ` +
      `v ${v.map((t) => fmtShape(t.shape)).join(' ')}`);
  return tidy(() => {
    const loss = fn(...params);
    const g = grad(loss, params, { createGraph: true, allowUnused: true }); // ∇L, with a graph back to θ
    let dot = sum(mul(g[0], v[0]));                                          // ∇L · v
    for (let i = 1; i < g.length; i++) dot = add(dot, sum(mul(g[i], v[i])));
    return grad(dot, params, { allowUnused: true });                         // ∇(∇L · v) = H v
  });
}

/**
 * The full Hessian of `fn` with respect to all parameters flattened in order: an [n, n] tensor, n = total parameter
 * count. Row j is ∇(∂L/∂θ_j): the gradient graph is built once and walked n times (so n backward passes, one per
 * row, each freeing its own intermediates). Meant for small models (hundreds of parameters).
 */
export function hessian(fn: (...params: Tensor[]) => Tensor, params: readonly Tensor[]): Tensor {
  checkParams('hessian', fn, params);
  return tidy(() => {
    const loss = fn(...params);
    const g = grad(loss, params, { createGraph: true, allowUnused: true }).map((t) => reshape(t, [sizeOf(t.shape)]));
    const rows: Tensor[] = [];
    for (const gi of g) {
      for (let k = 0; k < gi.size; k++) {
        rows.push(tidy(() => {
          const h = grad(slice(gi, 0, k, k + 1), params, { retainGraph: true, allowUnused: true });
          return concat(h.map((t) => reshape(t, [t.size])), 0);
        }));
      }
    }
    return stack(rows, 0);
  });
}
