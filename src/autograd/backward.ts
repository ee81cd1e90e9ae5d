/**
 * Reverse mode: walk the recorded graph from the result back to the leaves, in reverse topological order, calling each
 * op's rule from the rule table to turn the gradient of its output into gradients of its inputs.
 *
 * Semantics (as PyTorch):
 * - `loss.backward()` adds into `.grad` of every leaf that requires a gradient: calling it twice without clearing
 *   accumulates; `zeroGrad` (optimizers, modules) clears. Leaf gradients are kept out of `tidy` scopes.
 * - The graph is freed after a backward; walking it again is an error unless the first call passed `retainGraph`.
 * - Without `createGraph` the rules run with recording off and each intermediate gradient is disposed as soon as the
 *   last op needing it has run (./grad-store.ts). With `createGraph` the rules are recorded like any other ops (the
 *   gradient has a graph of its own, so it can be differentiated again) and intermediates are left to the enclosing
 *   `tidy`.
 */
import { GpugradError, check, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { onesLike } from '../tensor/creation.js';
import { keep, tidy, track } from '../tensor/memory.js';
import { add, clone } from '../tensor/ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { GradStore } from './grad-store.js';
import { enableGrad, noGrad, nodeOf, recordingOrderNow, setRecordingOrder, topologicalOrder } from './graph.js';
import { type RuleContext, getRule } from './rules/registry.js';

export interface BackwardOptions {
  /** keep the graph so that backward can walk it again (default: createGraph) */
  retainGraph?: boolean;
  /** record the backward pass itself, so the gradients can be differentiated again (default false) */
  createGraph?: boolean;
}

interface RunOptions extends BackwardOptions {
  /** when given, the gradients of these tensors are returned instead of being added into leaves' `.grad` */
  targets?: readonly Tensor[];
}

/**
 * The one backward walk behind `tensor.backward()` and `grad()`. `seeds[i]` is the gradient of `roots[i]`.
 * Returns the gradients of `targets` (when given), else adds into the leaves' `.grad`.
 */
export function runBackward(roots: readonly Tensor[], seeds: readonly Tensor[], external: ReadonlySet<Tensor>,
  options: RunOptions = {}): Map<Tensor, Tensor> {
  const createGraph = options.createGraph ?? false;
  const retainGraph = options.retainGraph ?? createGraph;
  const walk = () => {
    const order = topologicalOrder(roots); // inputs before outputs
    for (const t of order) for (const input of nodeOf(t)!.inputs) checkAlive(input, nodeOf(t)!.op);
    const targets = options.targets ? new Set(options.targets) : null;
    const needs = gradientNeeded(order, targets);
    const grads = new GradStore(!createGraph, external); // pending gradients, and when to free them
    roots.forEach((r, i) => { if (needs(r)) grads.accumulate(r, seeds[i]); });
    const found = new Map<Tensor, Tensor>();

    // outputs before inputs: when t's turn comes, every op that used t has added its contribution to t's gradient
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const g = grads.take(t);
      if (!g) continue;
      if (targets?.has(t)) found.set(t, createGraph ? g : clone(g));
      if (!targets && t.retainsGrad) accumulateInto(t, clone(g), createGraph);
      const node = nodeOf(t)!;
      const needsGrad = node.inputs.map(needs);
      if (!needsGrad.some(Boolean)) { grads.finished(g); continue; } // a target with nothing wanted above it
      check(!node.freed, 'backward', () => `the graph through '${node.op}' (output ${fmtShape(t.shape)}) was already ` +
        'freed by an earlier backward(); pass {retainGraph: true} to the first call to walk the graph twice');
      setRecordingOrder(node.order + 1); // what the rule records (createGraph) is one derivative order above the node
      // the chain rule: the op's rule turns t's gradient into each input's share, which adds to that input's gradient
      const inputGrads = runRule(node.op, g, { inputs: node.inputs, output: t, saved: node.saved, needsGrad }, createGraph);
      inputGrads.forEach((gi, i) => { if (gi && needsGrad[i]) grads.accumulate(node.inputs[i], gi); });
      grads.finished(g, inputGrads);
      if (!retainGraph) { node.freed = true; node.saved = {}; }
    }

    // What is left pending are leaves (and roots that are leaves themselves).
    for (const t of grads.pendingTensors()) {
      const g = grads.own(grads.take(t)!);
      if (targets) found.set(t, g); // with targets, only targets are left
      else accumulateInto(t, g, createGraph);
    }
    return found;
  };
  const outerOrder = recordingOrderNow();
  try {
    return createGraph ? enableGrad(walk) : noGrad(walk);
  } finally {
    setRecordingOrder(outerOrder); // also when a rule threw
  }
}

/** Which tensors need a gradient: everything requiring grad, or (for grad()) only what leads to a target. */
function gradientNeeded(order: readonly Tensor[], targets: ReadonlySet<Tensor> | null): (t: Tensor) => boolean {
  if (!targets) return (t) => t.requiresGrad;
  const needed = new Set<Tensor>(targets);
  for (const t of order) if (nodeOf(t)!.inputs.some((i) => needed.has(i))) needed.add(t);
  return (t) => needed.has(t);
}

/** A disposed tensor has lost its place in the graph (and its values): walking past it would drop gradients. */
function checkAlive(t: Tensor, consumer: string): void {
  check(!t.isDisposed || !t.requiresGrad, 'backward', () => `tensor #${t.id} ${fmtShape(t.shape)}, an input of ` +
    `'${consumer}', was disposed before backward (a tidy() around the forward pass disposes the graph); call ` +
    'backward inside the scope that computed the loss');
}

/** Runs one rule, checks what it returned, and (when not recording) disposes the rule's own intermediates. */
function runRule(op: string, g: Tensor, ctx: RuleContext, createGraph: boolean): (Tensor | null)[] {
  const rule = getRule(op);
  if (!rule) throw new GpugradError(`backward: no backward rule for op '${op}'; define one with defineRule('${op}', ...) in src/autograd/rules/`);
  let grads: (Tensor | null)[];
  try {
    grads = createGraph ? rule(g, ctx) : tidy(() => rule(g, ctx));
  } catch (e) {
    if (e instanceof GpugradError) throw new GpugradError(`backward of '${op}' (output ${fmtShape(ctx.output.shape)}): ${e.message}`);
    throw e;
  }
  if (grads.length !== ctx.inputs.length) {
    throw new GpugradError(`internal: the backward rule of '${op}' returned ${grads.length} gradients for ${ctx.inputs.length} inputs`);
  }
  grads.forEach((gi, i) => {
    if (gi && !shapesEqual(gi.shape, ctx.inputs[i].shape)) {
      throw new GpugradError(`internal: the backward rule of '${op}' gave a gradient of shape ${fmtShape(gi.shape)} ` +
        `for input ${i} of shape ${fmtShape(ctx.inputs[i].shape)}`);
    }
  });
  return grads;
}

/** `t.grad += g`, keeping the result out of tidy scopes (it must outlive the training step that made it). */
function accumulateInto(t: Tensor, g: Tensor, createGraph: boolean): void {
  const old = t.grad;
  if (!old || old.isDisposed) { t.grad = keep(g); return; }
  t.grad = keep(add(old, g));
  if (createGraph) { track(old); track(g); } // may be part of a recorded graph: the enclosing scope frees them
  else { old.dispose(); g.dispose(); }
}

/** `tensor.backward(grad?, options)`: see the file comment. */
export function backward(root: Tensor, grad?: Tensor, options: BackwardOptions = {}): void {
  check(root.requiresGrad, 'backward', () => `the tensor ${fmtShape(root.shape)} does not require a gradient: nothing it was ` +
    'computed from has requiresGrad (mark leaves with requiresGrad_(), and do not compute it inside noGrad)');
  const seed = seedFor('backward', root, grad);
  // the seed is the store's to dispose (or to keep: when the root is itself a leaf, it becomes root.grad)
  runBackward([root], [seed], new Set(grad ? [grad] : []), options);
}

/** The gradient to start from: `grad` (checked) or 1 for a one-element output. */
export function seedFor(op: string, root: Tensor, grad: Tensor | undefined): Tensor {
  if (grad) {
    check(shapesEqual(grad.shape, root.shape), op, () => `the gradient has shape ${fmtShape(grad.shape)} but the output has ` +
      `shape ${fmtShape(root.shape)}; they must match`);
    check(grad.device === root.device, op, `the gradient is on ${grad.device} but the output is on ${root.device}`);
    return grad;
  }
  check(root.size === 1, op, () => `the output has shape ${fmtShape(root.shape)} (${root.size} elements); without a gradient ` +
    'argument it must be a scalar: reduce it first (.sum() or .mean()) or pass a gradient of the same shape');
  return onesLike(root);
}
