/** The basic layers: Linear, ReLU, Flatten, Dropout, and the Sequential container. */
import { check } from '../core/errors.js';
import { flatten } from '../tensor/ops/index.js';
import { assertTensor, releaseIntermediates } from '../tensor/ops/util.js';
import type { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { dropout, linear, relu } from './functional.js';
import { type LayerOptions, defaultInit } from './init.js';
import { Module } from './module.js';

/** y = x·Wᵀ + b. Parameters `weight` [out, in] and `bias` [out]. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LayerOptions & { bias?: boolean } = {}) {
    super();
    check(Number.isInteger(inFeatures) && Number.isInteger(outFeatures) && inFeatures > 0 && outFeatures > 0, 'Linear',
      () => `needs positive integer sizes, got ${inFeatures} → ${outFeatures}`);
    this.weight = this.registerParameter('weight', defaultInit([outFeatures, inFeatures], inFeatures, opts))!;
    this.bias = this.registerParameter('bias', opts.bias === false ? null : defaultInit([outFeatures], inFeatures, opts));
  }
  forward(x: Tensor): Tensor { return linear(x, this.weight, this.bias); }
  protected override extraRepr() { return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`; }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return relu(x); }
}

/** Flattens dimensions startDim..endDim (default: all but the batch dimension). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor {
    assertTensor('Flatten', x);
    return flatten(x, this.startDim, this.endDim);
  }
  protected override extraRepr() { return `startDim=${this.startDim}, endDim=${this.endDim}`; }
}

/** Zeroes each element with probability p in training mode and scales the rest by 1/(1−p); the identity in eval. */
export class Dropout extends Module {
  constructor(readonly p = 0.5, private readonly generator?: Generator) {
    super();
    check(p >= 0 && p < 1, 'Dropout', `p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor { return dropout(x, this.p, this.training, this.generator); }
  protected override extraRepr() { return `p=${this.p}`; }
}

/** Runs its modules in order. Their parameters are named by position: `0.weight`, `0.bias`, `2.weight`, ... */
export class Sequential extends Module {
  private readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.registerModule(String(i), m));
  }
  get length(): number { return this.layers.length; }
  at(i: number): Module { return this.layers[i < 0 ? i + this.layers.length : i]; }
  /** Each layer's output is released once the next has consumed it, unless a recorded graph still needs it. */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.layers) {
      const next = layer.forward(h);
      if (h !== x) releaseIntermediates(next, h);
      h = next;
    }
    return h;
  }
}
