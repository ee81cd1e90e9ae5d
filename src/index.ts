/**
 * gpugrad's public API: the one door users and the upper floors (experiments, CLI, report) come through.
 * Importing it probes WebGPU once and chooses the default device (see src/tensor/device.ts).
 */
import { initDevices, webgpuRuntime } from './tensor/device.js';
import { setPoolStats } from './tensor/memory.js';

export { Tensor, type NestedArray } from './tensor/tensor.js';
export * from './tensor/creation.js';
export * from './tensor/ops/index.js';
export { manualSeed, Generator, defaultGenerator } from './tensor/random.js';
export { tidy, keep, memory, startScope, endScope, type MemoryReport } from './tensor/memory.js';
export {
  setDevice, getDevice, hasWebGPU, deviceInfo, shutdown, sync, initWebGPU, webgpuRuntime, HOW_TO_GET_WEBGPU,
} from './tensor/device.js';
export { GpugradError } from './kernels/errors.js';
export type { DType, DeviceName, TypedArray } from './kernels/backend.js';
export {
  noGrad, enableGrad, isGradEnabled, topologicalOrder, grad, hvp, hessian, gradcheck, gradgradcheck, toDot, toSvg, dotToSvg,
  defineRule, definedRules, type GradOptions, type BackwardOptions, type GradcheckOptions, type DotOptions, type BackwardRule, type RuleContext,
} from './autograd/index.js';
export {
  Module, Linear, ReLU, Flatten, Dropout, Sequential, Conv2d, MaxPool2d, MSELoss, CrossEntropyLoss, type LayerOptions,
  Optimizer, SGD, Adam, type SGDOptions, type AdamOptions, type OptimizerState, save, load, encodeSafetensors, decodeSafetensors,
  type HostTensor, type LoadOptions, F, copyInto, MLPEnsemble, ensembleMSE, perModelNorm, ensembleHessian, type EnsembleOptions,
} from './nn/index.js';
export { ensembleCrossEntropy, ensembleCountCorrect, ensembleMaskedMSE } from './nn/index.js';
export {
  MNIST, CIFAR10, loadMNIST, hasMnistFiles, loadCIFAR10, type MnistOptions, type Cifar10Options, ImageDataset, type DatasetSplits,
  DataLoader, type DataLoaderOptions, type Batch, f1, f2, functionDataset, type FunctionData, randomLabels,
  defaultCacheDir,
} from './data/index.js';

await initDevices();
setPoolStats(() => {
  const rt = webgpuRuntime();
  return rt ? { pooledBytes: rt.storage.pooledBytes, allocatedBytes: rt.storage.allocatedBytes } : null;
});
