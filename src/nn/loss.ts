/** Loss modules: `new MSELoss().forward(pred, target)`, `new CrossEntropyLoss().forward(logits, labels)`. */
import type { Tensor } from '../tensor/tensor.js';
import { crossEntropy, mseLoss } from './functional.js';
import { Module } from './module.js';

export class MSELoss extends Module {
  constructor(readonly reduction: 'mean' | 'sum' = 'mean') { super(); }
  forward(pred: Tensor, target: Tensor): Tensor { return mseLoss(pred, target, this.reduction); }
}

/** Mean cross-entropy of logits [B, C] against int32 class labels [B] (log-softmax and NLL in one). */
export class CrossEntropyLoss extends Module {
  forward(logits: Tensor, labels: Tensor): Tensor { return crossEntropy(logits, labels); }
}
