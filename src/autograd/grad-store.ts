/**
 * The gradients a backward walk has produced and not yet used, and the memory bookkeeping that goes with them — kept
 * apart from the walk (./backward.ts) so that the walk reads as the chain rule.
 *
 * Why bookkeeping at all: on the GPU, memory is the scarce thing, and a backward pass makes one gradient per
 * intermediate tensor. Without `createGraph`, each is disposed as soon as the last op needing it has run. One tensor
 * can be the gradient of several inputs (`add` passes its output gradient on unchanged), so the store counts the
 * places holding each gradient tensor, and disposes a gradient no place holds any more — unless the caller handed it
 * in (`external`: a seed the caller still owns) or the backward pass is being recorded (its gradients belong to the
 * recorded graph, and the enclosing `tidy` frees them).
 */
import { add, clone } from '../tensor/ops/index.js';
import type { Tensor } from '../tensor/tensor.js';

export class GradStore {
  private pending = new Map<Tensor, Tensor>();
  private holds = new Map<Tensor, number>();
  constructor(private readonly disposeFreed: boolean, private readonly external: ReadonlySet<Tensor>) {}

  /** Adds `g` into the pending gradient of `t` (the sum over every use of `t`). */
  accumulate(t: Tensor, g: Tensor): void {
    this.hold(g);
    const prev = this.pending.get(t);
    if (!prev) { this.pending.set(t, g); return; }
    const sum = add(prev, g);
    this.hold(sum);
    this.pending.set(t, sum);
    this.release(prev);
    this.release(g);
  }

  /** Removes and returns the gradient of `t` (still held: pass it to `finished`, or `own` it). */
  take(t: Tensor): Tensor | undefined {
    const g = this.pending.get(t);
    this.pending.delete(t);
    return g;
  }

  /** The tensors with a gradient still pending (after the walk: the leaves). */
  pendingTensors(): Tensor[] { return [...this.pending.keys()]; }

  /**
   * An op's rule has run on `g`, producing `inputGrads`: lets go of `g`, and disposes any of `inputGrads` that was
   * not accumulated (a gradient for an input that needs none).
   */
  finished(g: Tensor, inputGrads: readonly (Tensor | null)[] = []): void {
    for (const gi of inputGrads) if (gi) this.discard(gi);
    this.release(g);
  }

  /**
   * Takes `g` out of the store's hands, to become a `.grad` or a returned gradient: the tensor itself when no one else
   * holds it and it alone is its storage, else a fresh contiguous copy (so no two owners share one tensor object).
   */
  own(g: Tensor): Tensor {
    if (g.isDense && (this.holds.get(g) ?? 0) <= 1 && !this.external.has(g)) {
      this.holds.delete(g);
      return g;
    }
    const copy = clone(g);
    this.release(g);
    return copy;
  }

  private hold(g: Tensor): void { this.holds.set(g, (this.holds.get(g) ?? 0) + 1); }

  private release(g: Tensor): void {
    const n = (this.holds.get(g) ?? 0) - 1;
    if (n > 0) { this.holds.set(g, n); return; }
    this.holds.delete(g);
    this.discard(g);
  }

  /** Disposes a tensor nothing holds (unless the caller owns it, or the pass is recorded). */
  private discard(g: Tensor): void {
    if (this.disposeFreed && !this.holds.has(g) && !this.external.has(g)) g.dispose();
  }
}
