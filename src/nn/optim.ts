/**
 * Optimizers, as PyTorch's: `SGD` (momentum, dampening, Nesterov, coupled weight decay) and `Adam` (coupled L2 weight
 * decay, bias-corrected moments). Both update the parameters in place, so modules and graphs keep their tensors.
 *
 * Adam runs one fused kernel per parameter (backend.adam: moments and update in one pass) — no chain of elementwise
 * ops, no temporaries, so a training step on WebGPU stays one command batch. SGD is written with tensor ops.
 * Optimizer state (moments, momentum buffers) is kept out of `tidy` scopes; `dispose()` frees it.
 */
import { check, fmtShape } from '../kernels/errors.js';
import { zerosLike } from '../tensor/creation.js';
import { keep, tidy } from '../tensor/memory.js';
import { add, clone, mul, sub } from '../tensor/ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/graph.js';
import { copyInto, isDense } from './assign.js';

export abstract class Optimizer {
  readonly params: Tensor[];
  /** how many times step() has run */
  stepCount = 0;

  constructor(params: Iterable<Tensor>, name: string) {
    this.params = [...params];
    check(this.params.length > 0, name, 'got no parameters (pass model.parameters())');
    this.params.forEach((p, i) => {
      check(p instanceof Tensor, name, `parameter ${i} is not a Tensor`);
      check(p.requiresGrad && p.isLeaf, name, `parameter ${i} ${fmtShape(p.shape)} must be a leaf that requires a gradient`);
      check(isDense(p), name, `parameter ${i} ${fmtShape(p.shape)} must own contiguous storage (clone() it)`);
    });
  }

  /** Clears every parameter's gradient (disposes it and sets `.grad` to null, like PyTorch's default). */
  zeroGrad(): void {
    for (const p of this.params) { p.grad?.dispose(); p.grad = null; }
  }

  /** One update from the current `.grad`s. Parameters without a gradient are skipped. */
  step(): void {
    this.stepCount++;
    noGrad(() => tidy(() => {
      this.params.forEach((p, i) => {
        if (!p.grad) return;
        this.update(p, isDense(p.grad) ? p.grad : clone(p.grad), i);
      });
    }));
  }

  protected abstract update(p: Tensor, grad: Tensor, index: number): void;

  /** Frees the optimizer's state tensors. */
  abstract dispose(): void;
}

export interface SGDOptions { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }

/** p ← p − lr·d, with d = g + wd·p, or with momentum: buf ← μ·buf + (1−dampening)·d, d = buf (or d + μ·buf, Nesterov). */
export class SGD extends Optimizer {
  readonly lr: number; readonly momentum: number; readonly dampening: number; readonly weightDecay: number;
  readonly nesterov: boolean;
  private buffers: (Tensor | null)[];

  constructor(params: Iterable<Tensor>, { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false }: SGDOptions) {
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
    this.moments ??= this.params.map((q) => ({ m: keep(zerosLike(q)), v: keep(zerosLike(q)) }));
    const { m, v } = this.moments[i];
    const [beta1, beta2] = this.betas;
    const t = this.stepCount;
    p.storage.backend.adam(p.storage, g.storage, m.storage, v.storage, {
      lr: this.lr, beta1, beta2, eps: this.eps, weightDecay: this.weightDecay,
      bc1: 1 - beta1 ** t, bc2: 1 - beta2 ** t,
    });
  }

  /** The first and second moment estimates of parameter i (null before the first step). */
  state(i: number): { m: Tensor; v: Tensor } | null { return this.moments?.[i] ?? null; }

  dispose(): void {
    for (const s of this.moments ?? []) { s.m.dispose(); s.v.dispose(); }
    this.moments = null;
  }
}
