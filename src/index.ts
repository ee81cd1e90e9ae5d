/**
 * gpugrad's public API under Node: the one door users and the upper floors (experiments, CLI, report) come through.
 * It is src/api.ts (what a browser page gets too, from src/browser.ts) plus the Node-only exports: safetensors files
 * (`save`, `load`), the datasets read from disk (MNIST, CIFAR-10), and `HessianPool`'s worker threads with the
 * Hessian spectra they compute. Importing it probes WebGPU once, through Dawn's Node bindings, and chooses the default
 * device (see src/tensor/device.ts).
 */
import { nodePlatform } from './core/platform-node.js';
import { startDevices } from './tensor/device.js';

export * from './api.js';
export { HOW_TO_GET_WEBGPU } from './core/platform-node.js';
export { save, load, type LoadOptions } from './nn/safetensors-file.js';
export { HessianPool, type HessianPoolOptions } from './nn/hessian-pool.js';
export { hessianSpectra, spectrumOf, symmetricEigenvalues, type HostParams, type Spectrum } from './nn/hessian-spectrum.js';
export {
  MNIST, CIFAR10, loadMNIST, hasMnistFiles, loadCIFAR10, type MnistOptions, type Cifar10Options, defaultCacheDir,
} from './data/index.js';

await startDevices(nodePlatform);
