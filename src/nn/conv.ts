/** Convolution and pooling layers (their kernels live in the vision ops). */
import { check } from '../core/errors.js';
import { pair } from '../tensor/ops/util.js';
import type { Tensor } from '../tensor/tensor.js';
import { type Conv2dOptions, type Pool2dOptions, conv2d, maxPool2d } from './functional.js';
import { type LayerOptions, defaultInit } from './init.js';
import { Module } from './module.js';


/** 2-D convolution over [N, C, H, W]. Parameters `weight` [out, in/groups, kH, kW] and `bias` [out]. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly options: Conv2dOptions;
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number | readonly [number, number],
    opts: Conv2dOptions & LayerOptions & { bias?: boolean } = {}) {
    super();
    const groups = opts.groups ?? 1;
    check([inChannels, outChannels].every((c) => Number.isInteger(c) && c > 0), 'Conv2d',
      () => `inChannels and outChannels must be positive integers, got ${inChannels}, ${outChannels}`);
    check(inChannels % groups === 0 && outChannels % groups === 0, 'Conv2d',
      () => `inChannels ${inChannels} and outChannels ${outChannels} must both be divisible by groups ${groups}`);
    const [kH, kW] = pair('Conv2d', 'kernelSize', kernelSize, 1);
    const fanIn = (inChannels / groups) * kH * kW;
    this.weight = this.registerParameter('weight', defaultInit([outChannels, inChannels / groups, kH, kW], fanIn, opts))!;
    this.bias = this.registerParameter('bias', opts.bias === false ? null : defaultInit([outChannels], fanIn, opts));
    this.options = { stride: opts.stride ?? 1, padding: opts.padding ?? 0, dilation: opts.dilation ?? 1, groups };
  }
  forward(x: Tensor): Tensor { return conv2d(x, this.weight, this.bias, this.options); }
  protected override extraRepr() {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.weight.shape.slice(2)}], ` +
      `stride=${this.options.stride}, padding=${this.options.padding}`;
  }
}

/** 2-D max pooling; stride defaults to the kernel size (as PyTorch). */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: number | readonly [number, number], readonly options: Pool2dOptions = {}) {
    super();
    pair('MaxPool2d', 'kernelSize', kernelSize, 1);
  }
  forward(x: Tensor): Tensor { return maxPool2d(x, this.kernelSize, this.options); }
  protected override extraRepr() { return `kernelSize=${this.kernelSize}`; }
}
