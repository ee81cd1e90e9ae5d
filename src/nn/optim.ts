/**
 * Optimizers, as PyTorch's: `SGD` (momentum, dampening, Nesterov, coupled weight decay) and `Adam` (coupled L2 weight
 * decay, bias-corrected moments). Both update the parameters in place, so modules and graphs keep their tensors.
 *
 * Adam runs one fused kernel per parameter (backend.adam: moments and update in one pass) — no chain of elementwise
 * ops, no temporaries, so a training step on WebGPU stays one command batch. SGD is written with tensor ops.
 * Optimizer state (moments, momentum buffers) is kept out of `tidy` scopes; `dispose()` frees it.
 */
import { check, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { zerosLike } from '../tensor/creation.js';
import { keep, tidy } from '../tensor/memory.js';
import { add, clone, mul, sub } from '../tensor/ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/graph.js';
import { copyInto } from './assign.js';

export abstract class Optimizer {
  readonly params: Tensor[];
  /** how many times step() has run */
  stepCount = 0;

  constructor(params: Iterable<Tensor>, name: string) {
    check(params != null && typeof (params as Iterable<Tensor>)[Symbol.iterator] === 'function', name,
      () => `params must be an iterable of tensors (model.parameters()), got ${params === null ? 'null' : typeof params}`);
    this.params = [...params];
    check(this.params.length > 0, name, 'got no parameters (pass model.parameters())');
    this.params.forEach((p, i) => {
      check(p instanceof Tensor, name, `parameter ${i} is not a Tensor`);
      check(p.requiresGrad && p.isLeaf, name, () => `parameter ${i} ${fmtShape(p.shape)} must be a leaf that requires a gradient`);
      check(p.isDense, name, () => `parameter ${i} ${fmtShape(p.shape)} must own contiguous storage (clone() it)`);
    });
  }

  /** Clears every parameter's gradient (disposes it and sets `.grad` to null, like PyTorch's default). */
  zeroGrad(): void {
    for (const p of this.params) { p.grad?.dispose(); p.grad = null; }
  }

  /**
   * One update from the current `.grad`s. Parameters without a gradient are skipped. Every gradient is checked before
   * any parameter moves, so a bad one leaves the parameters, the state and the step count as they were.
   */
  step(): void {
    const name = `${this.constructor.name}.step`;
    this.params.forEach((p, i) => {
      const g = p.grad;
      if (!g) return;
      check(g instanceof Tensor && !g.isDisposed, name, () => `parameter ${i}'s .grad is not a live Tensor`);
      check(shapesEqual(g.shape, p.shape) && g.dtype === p.dtype && g.device === p.device, name,
        () => `parameter ${i} is ${p.dtype} ${fmtShape(p.shape)} on ${p.device} but its .grad is ${g.dtype} ` +
          `${fmtShape(g.shape)} on ${g.device}; a gradient must match its parameter (set by backward(), or by hand with that shape)`);
    });
    this.stepCount++;
    noGrad(() => tidy(() => {
      this.params.forEach((p, i) => {
        if (!p.grad) return;
        this.update(p, p.grad.isDense ? p.grad : clone(p.grad), i);
      });
    }));
  }

  protected abstract update(p: Tensor, grad: Tensor, index: number): void;

  /** Frees the optimizer's state tensors. */
  abstract dispose(): void;

  /**
   * Forgets the state (Adam's moments, SGD's momentum buffers) and the step count, keeping the parameters and the
   * settings: the next step is the first step of a new optimizer over the same parameters, bias correction included.
   * (Homework 1's original report made a new Adam every epoch; its variant is trained this way.)
   */
  reset(): void {
    this.dispose();
    this.stepCount = 0;
  }

  /**
   * The optimizer's state, to save with a checkpoint (e.g. with `saveSafetensors`): the step count and its state
   * tensors by name (`<parameter index>.<name>`, e.g. `0.m`). The tensors are the live ones: save or copy them before
   * the next step.
   */
  stateDict(): OptimizerState {
    const tensors: Record<string, Tensor> = {};
    this.params.forEach((_, i) => {
      for (const [name, t] of Object.entries(this.slots(i))) if (t) tensors[`${i}.${name}`] = t;
    });
    return { stepCount: this.stepCount, tensors };
  }

  /**
   * Puts back a state from `stateDict()` (of an optimizer of the same kind over parameters of the same shapes): the
   * values are copied into this optimizer's own tensors, so the next step continues exactly where that one stopped.
   */
  loadStateDict(state: OptimizerState): void {
    const name = this.constructor.name;
    check(typeof state === 'object' && state !== null && typeof state.tensors === 'object' && state.tensors !== null,
      `${name}.loadStateDict`, 'needs a state from stateDict(): {stepCount, tensors}');
    check(Number.isInteger(state.stepCount) && state.stepCount >= 0, `${name}.loadStateDict`, `stepCount must be a count, got ${state.stepCount}`);
    const known = new Set<string>();
    this.params.forEach((p, i) => {
      for (const slot of this.slotNames()) {
        const key = `${i}.${slot}`;
        known.add(key);
        const src = state.tensors[key];
        if (!src) continue;
        check(shapesEqual(src.shape, p.shape), `${name}.loadStateDict`,
          () => `${key} is ${fmtShape(src.shape)} but parameter ${i} is ${fmtShape(p.shape)}`);
        check(src.device === p.device, `${name}.loadStateDict`, `${key} is on ${src.device} but parameter ${i} on ${p.device}; move it first (await t.to('${p.device}'))`);
        noGrad(() => tidy(() => copyInto(this.slot(i, slot), src.dtype === p.dtype ? src : src.cast(p.dtype))));
      }
    });
    const unknown = Object.keys(state.tensors).filter((k) => !known.has(k));
    check(unknown.length === 0, `${name}.loadStateDict`, () => `unexpected state ${unknown.join(', ')} (a state of another optimizer or model?)`);
    this.stepCount = state.stepCount;
  }

  /** The names of the state tensors kept per parameter. */
  protected abstract slotNames(): readonly string[];
  /** Parameter i's state tensors by name (null before they exist). */
  protected abstract slots(i: number): Record<string, Tensor | null>;
  /** Parameter i's state tensor `name`, created (zeros) if it does not exist yet. */
  protected abstract slot(i: number, name: string): Tensor;
}

/** What `Optimizer.stateDict()` returns and `loadStateDict()` takes. */
export interface OptimizerState { stepCount: number; tensors: Record<string, Tensor> }

export interface SGDOptions { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }

/** p ← p − lr·d, with d = g + wd·p, or with momentum: buf ← μ·buf + (1−dampening)·d, d = buf (or d + μ·buf, Nesterov). */
export class SGD extends Optimizer {
  readonly lr: number; readonly momentum: number; readonly dampening: number; readonly weightDecay: number;
  readonly nesterov: boolean;
  private buffers: (Tensor | null)[];

  constructor(params: Iterable<Tensor>, { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false }: SGDOptions =
    {} as SGDOptions) {
    super(params, 'SGD');
    check(lr >= 0 && momentum >= 0 && weightDecay >= 0, 'SGD', `lr, momentum and weightDecay must be ≥ 0 (got ${lr}, ${momentum}, ${weightDecay})`);
    check(!nesterov || (momentum > 0 && dampening === 0), 'SGD', 'Nesterov momentum needs momentum > 0 and dampening 0');
    this.lr = lr; this.momentum = momentum; this.dampening = dampening; this.weightDecay = weightDecay; this.nesterov = nesterov;
    this.buffers = this.params.map(() => null);
  }

  protected update(p: Tensor, g: Tensor, i: number): void {
    let d = this.weightDecay ? add(g, mul(p, this.weightDecay)) : g;
    if (this.momentum) {
      const buf = this.buffers[i];
      if (!buf) {
        this.buffers[i] = keep(clone(d));  // the first step starts the buffer at d (as PyTorch)
      } else {
        copyInto(buf, add(mul(buf, this.momentum), mul(d, 1 - this.dampening)));
      }
      const b = this.buffers[i]!;
      d = this.nesterov ? add(d, mul(b, this.momentum)) : b;
    }
    copyInto(p, sub(p, mul(d, this.lr)));
  }

  dispose(): void { for (const b of this.buffers) b?.dispose(); this.buffers = this.params.map(() => null); }

  protected slotNames() { return this.momentum ? ['momentum'] : []; }
  protected slots(i: number): Record<string, Tensor | null> { return this.momentum ? { momentum: this.buffers[i] } : {}; }
  protected slot(i: number, _name: string): Tensor { return (this.buffers[i] ??= keep(zerosLike(this.params[i]))); }
}

export interface AdamOptions { lr?: number; betas?: readonly [number, number]; eps?: number; weightDecay?: number }

/**
 * Adam (Kingma & Ba) exactly as torch.optim.Adam: g ← g + wd·p; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * p ← p − lr·(m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + eps). One kernel per parameter.
 */
export class Adam extends Optimizer {
  readonly lr: number; readonly betas: readonly [number, number]; readonly eps: number; readonly weightDecay: number;
  private moments: { m: Tensor; v: Tensor }[] | null = null;

  constructor(params: Iterable<Tensor>, { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0 }: AdamOptions = {}) {
    super(params, 'Adam');
    check(lr >= 0 && eps >= 0 && weightDecay >= 0, 'Adam', `lr, eps and weightDecay must be ≥ 0 (got ${lr}, ${eps}, ${weightDecay})`);
    check(betas.every((b) => b >= 0 && b < 1), 'Adam', `betas must be in [0, 1), got [${betas}]`);
    this.lr = lr; this.betas = betas; this.eps = eps; this.weightDecay = weightDecay;
  }

  protected update(p: Tensor, g: Tensor, i: number): void {
    const m = this.slot(i, 'm'), v = this.slot(i, 'v');
    const [beta1, beta2] = this.betas;
    const t = this.stepCount;
    p.storage.backend.adam(p.storage, g.storage, m.storage, v.storage, {
      lr: this.lr, beta1, beta2, eps: this.eps, weightDecay: this.weightDecay,
      bc1: 1 - beta1 ** t, bc2: 1 - beta2 ** t,
    });
  }

  /** The first and second moment estimates of parameter i (null before the first step). */
  state(i: number): { m: Tensor; v: Tensor } | null { return this.moments?.[i] ?? null; }

  protected slotNames() { return ['m', 'v']; }
  protected slots(i: number) { return { m: this.moments?.[i].m ?? null, v: this.moments?.[i].v ?? null }; }
  protected slot(i: number, name: string): Tensor {
    this.moments ??= this.params.map((q) => ({ m: keep(zerosLike(q)), v: keep(zerosLike(q)) }));
    return name === 'm' ? this.moments[i].m : this.moments[i].v;
  }

  dispose(): void {
    for (const s of this.moments ?? []) { s.m.dispose(); s.v.dispose(); }
    this.moments = null;
  }
}
