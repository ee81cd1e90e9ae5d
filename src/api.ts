/// <reference lib="esnext.disposable" preserve="true" />
/**
 * The public API that runs anywhere: what both entry points export (src/index.ts for Node, src/browser.ts for a
 * browser page). Nothing imported from here may reach a Node built-in: the browser bundle test checks it. The entry
 * points add their environment's platform, the Node-only exports (files, datasets on disk) and the device probe.
 * The reference above travels into the published declarations: Tensor is Disposable (`using t = ...`), so a user's
 * tsc needs that library whatever its target. WebGPU's own types (GPUDevice, ..., in webgpuRuntime()'s Runtime) are
 * not referenced: TypeScript 6+ has them in its "dom" library, and forcing @webgpu/types on top collides with it
 * (duplicate identifiers); with TypeScript 5 or without "dom", a user adds @webgpu/types (README, TypeScript).
 */
export { Tensor, type NestedArray } from './tensor/tensor.js';
export * from './tensor/creation.js';
export * from './tensor/ops/index.js';
export { manualSeed, Generator, defaultGenerator } from './tensor/random.js';
export { tidy, keep, memory, startScope, endScope, type MemoryReport } from './tensor/memory.js';
export {
  setDevice, getDevice, availableDevices, hasWebGPU, deviceInfo, shutdown, sync, initWebGPU, webgpuRuntime,
} from './tensor/device.js';
export { GpugradError } from './core/errors.js';
export type { DType, DeviceName, TypedArray } from './kernels/backend.js';
export {
  noGrad, enableGrad, isGradEnabled, topologicalOrder, grad, hvp, hessian, gradcheck, gradgradcheck, toDot, toSvg, dotToSvg,
  defineRule, definedRules, type GradOptions, type BackwardOptions, type GradcheckOptions, type DotOptions, type BackwardRule, type RuleContext,
} from './autograd/index.js';
export {
  Module, Linear, ReLU, Flatten, Dropout, Sequential, Conv2d, MaxPool2d, MSELoss, CrossEntropyLoss, type LayerOptions,
  Optimizer, SGD, Adam, type SGDOptions, type AdamOptions, type OptimizerState, encodeSafetensors, decodeSafetensors,
  type HostTensor, F, copyInto, MLPEnsemble, ensembleMSE, perModelNorm, ensembleHessian, type EnsembleOptions,
} from './nn/index.js';
export { ensembleCrossEntropy, ensembleCountCorrect, ensembleMaskedMSE } from './nn/index.js';
export {
  ImageDataset, type DatasetSplits, DataLoader, type DataLoaderOptions, type Batch, f1, f2, functionDataset,
  type FunctionData, randomLabels,
} from './data/portable.js';
