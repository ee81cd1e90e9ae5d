/**
 * Neural-network building blocks (as torch.nn and torch.optim): Module and the layers, losses, their functional
 * forms, PyTorch's default initialisation, the optimizers, and the safetensors format. Everything here runs in a
 * browser too; `save`/`load` (files) are in safetensors-file.ts, exported by the Node entry only.
 */
export { Module } from './module.js';
export { MLPEnsemble, ensembleMSE, perModelNorm, ensembleHessian, type EnsembleOptions } from './ensemble.js';
export { ensembleCrossEntropy, ensembleCountCorrect, ensembleMaskedMSE } from './ensemble.js';
export { Linear, ReLU, Flatten, Dropout, Sequential } from './layers.js';
export { Conv2d, MaxPool2d } from './conv.js';
export { MSELoss, CrossEntropyLoss } from './loss.js';
export { type LayerOptions, defaultInit } from './init.js';
export { Optimizer, SGD, Adam, type SGDOptions, type AdamOptions, type OptimizerState } from './optim.js';
export { encodeSafetensors, decodeSafetensors, type HostTensor } from './safetensors.js';
export { copyInto } from './assign.js';
export * as F from './functional.js';
