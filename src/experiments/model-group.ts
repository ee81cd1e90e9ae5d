/**
 * One training path for a family of regression MLPs, batched or one by one (2-2 grad-norm, 2-3 minimal-ratio). A
 * `RegressionGroup` is N networks stacked in one MLPEnsemble and stepped in lockstep (the default), or one Sequential
 * alone (`--one-by-one`: a group of one); the experiments' loops are written once against it, so the two ways differ
 * only in which group they are given. One network's group computes exactly what it would alone (its loss is the
 * scalar MSE it backwards, its norms the sums over its own gradients), so a one-by-one run keeps its numbers.
 */
import * as g from '../index.js';
import type { Tensor } from '../index.js';
import { totalGradNorm } from './regression.js';

/** Each network's parameters on the host, by its Sequential's state-dict keys. */
export type HostState = Record<string, Float32Array>;

/** The weights and biases of an MLP's Linear layers: a Sequential's ([out, in]) or an ensemble's stacked ones. */
export interface Layers { weights: readonly Tensor[]; biases: readonly Tensor[] }

export interface RegressionGroup {
  /** how many networks */
  readonly count: number;
  /** the parameters as one module (what trainingState/resumeTraining checkpoint and an optimizer steps) */
  readonly module: g.Module;
  readonly layers: Layers;
  /** The MSE on (x, y): a scalar for one network, [count] for an ensemble (`total()` gives what backward starts from). */
  loss(x: Tensor, y: Tensor): Tensor;
  /** ‖∇L‖ of each network ([count]) from the gradients the last backward left in `.grad`. */
  gradNorms(): Tensor;
  /** ‖∇L‖² of each network (shaped as `loss`) from gradients of it, differentiable (for ½‖∇L‖²). */
  squaredGradNorms(grads: readonly Tensor[]): Tensor;
  /** Each network's outputs on x, on the host (one read). */
  predictions(x: Tensor): Promise<ArrayLike<number>[]>;
  /** Each network's parameters on the host (one read per parameter). */
  states(): Promise<HostState[]>;
  /** Gives network m the parameters `state` back (a network that stopped early keeps the ones it stopped with). */
  restore(m: number, state: HostState): void;
  dispose(): void;
}

/** What backward starts from: the loss of one network, the sum of an ensemble's (each member's gradient its own). */
export const total = (loss: Tensor): Tensor => (loss.ndim === 0 ? loss : loss.sum());

/** `count` networks stacked in one ensemble. */
export function ensembleGroup(ens: g.MLPEnsemble): RegressionGroup {
  return {
    count: ens.count, module: ens, layers: ens,
    loss: (x, y) => g.ensembleMSE(ens.forward(x), y),
    gradNorms: () => g.noGrad(() => g.perModelNorm(ens.parameters().map((p) => p.grad!))),
    squaredGradNorms: (grads) => g.perModelNorm(grads, { squared: true }),
    async predictions(x) {
      const host = await readPrediction(ens, x); // [count, points, 1]
      const P = x.shape[0];
      return Array.from({ length: ens.count }, (_, n) => host.subarray(n * P, (n + 1) * P));
    },
    async states() {
      const named = [...ens.namedParameters()];
      const host = await Promise.all(named.map(([, t]) => t.data() as Promise<Float32Array>));
      return Array.from({ length: ens.count }, (_, m) => Object.fromEntries(named.map(([k, t], j) => {
        const len = t.size / ens.count;
        return [k, host[j].slice(m * len, (m + 1) * len)];
      })));
    },
    restore(m, state) {
      g.noGrad(() => {
        for (const [k, p] of ens.namedParameters()) g.tidy(() => g.copyInto(p.slice(0, m, m + 1), g.tensor(state[k], { shape: [1, ...p.shape.slice(1)] })));
      });
    },
    dispose: () => ens.dispose(),
  };
}

/** One network alone (a Sequential of Linear and ReLU layers). */
export function singleGroup(model: g.Sequential): RegressionGroup {
  const params = model.parameters();
  const linears: g.Linear[] = [];
  for (let i = 0; i < model.length; i++) { const m = model.at(i); if (m instanceof g.Linear) linears.push(m); }
  return {
    count: 1, module: model, layers: { weights: linears.map((l) => l.weight), biases: linears.map((l) => l.bias!) },
    loss: (x, y) => g.F.mseLoss(model.forward(x), y),
    gradNorms: () => g.noGrad(() => totalGradNorm(params)).reshape([1]),
    squaredGradNorms: (grads) => grads.map((t) => t.square().sum()).reduce((a, b) => a.add(b)),
    predictions: async (x) => [await readPrediction(model, x)],
    async states() {
      const state: HostState = {};
      for (const [k, t] of model.namedParameters()) state[k] = await t.data() as Float32Array;
      return [state];
    },
    restore(_m, state) {
      g.noGrad(() => { for (const [k, p] of model.namedParameters()) g.tidy(() => g.copyInto(p, g.tensor(state[k], { shape: [...p.shape] }))); });
    },
    dispose: () => model.dispose(),
  };
}

async function readPrediction(model: g.Module, x: Tensor): Promise<Float32Array> {
  const pred = g.noGrad(() => model.forward(x));
  const host = await pred.data() as Float32Array;
  pred.dispose();
  return host;
}
