/**
 * The full-batch regression of the function experiments (1-1, 2-2, 2-3): one Adam step on the MSE, the gradient's
 * norm (model-group.ts steps whole families), the dead-network test, and the iteration's text on the terminal.
 */
import * as g from '../index.js';
import type { Adam, Module, Tensor } from '../index.js';

/** One full-batch step: the loss before the update (returned, on the device), backward, Adam. */
export function regressionStep(model: Module, opt: Adam, x: Tensor, y: Tensor): { loss: Tensor } {
  return g.tidy(() => {
    opt.zeroGrad();
    const loss = g.F.mseLoss(model.forward(x), y);
    loss.backward();
    opt.step();
    return { loss: loss.detach() };
  });
}

/** ‖(∂L/∂θ₁, …, ∂L/∂θₖ)‖₂ over all parameters, as a device scalar. */
export function totalGradNorm(params: readonly Tensor[]): Tensor {
  return g.tidy(() => {
    let s: Tensor | null = null;
    for (const p of params) if (p.grad) s = s ? s.add(p.grad.square().sum()) : p.grad.square().sum();
    return s ? s.sqrt() : g.zeros([]);
  });
}

/**
 * A dead network outputs the same value for every input (its ReLUs are all off somewhere): its loss is then
 * Var(y) and every weight gradient is (almost exactly) zero. Judged on the predictions' spread.
 */
export function isConstant(pred: ArrayLike<number>): boolean {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < pred.length; i++) { lo = Math.min(lo, pred[i]); hi = Math.max(hi, pred[i]); }
  return hi - lo <= 1e-6 * (1 + Math.abs(hi));
}

/** The median of some numbers (NaN for none). */
export function median(v: readonly number[]): number {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `iteration  400/1200`: the start of a line on the terminal. */
export function iterationText(it: number, total: number): string {
  return `iteration ${String(it).padStart(String(total).length)}/${total}`;
}

/** Population variance (the MSE of predicting the mean). */
export function variance(y: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m += y[i];
  m /= y.length;
  let v = 0;
  for (let i = 0; i < y.length; i++) v += (y[i] - m) ** 2;
  return v / y.length;
}
