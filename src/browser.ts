/**
 * gpugrad's public API in a browser page (the package's `browser` condition, or `gpugrad/browser`): the same as under
 * Node (src/api.ts) except the Node-only exports (`save`/`load` of files, the MNIST and CIFAR-10 readers). WebGPU
 * comes from `navigator.gpu`; where the browser has none, the CPU backend is the default (one console line says so).
 * Nothing in this file's import graph touches a Node built-in (test/browser-bundle.test.ts bundles it to check).
 */
import { browserPlatform } from './core/platform-browser.js';
import { startDevices } from './tensor/device.js';

export * from './api.js';
export { HOW_TO_GET_WEBGPU } from './core/platform-browser.js';

await startDevices(browserPlatform);
