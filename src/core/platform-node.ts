/**
 * The Node platform (see platform.ts): settings from environment variables, messages on stderr, WebGPU from Dawn's Node
 * bindings (the npm package `webgpu`), and the device released at 'beforeExit' so a script ends by itself.
 * Only src/index.ts imports this file; the browser graph never does.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Platform } from './platform.js';

export const HOW_TO_GET_WEBGPU =
  'On Linux without a GPU, install SwiftShader (a CPU Vulkan driver) with `scripts/setup-swiftshader.sh` and run with ' +
  'VK_ICD_FILENAMES pointing at its vk_swiftshader_icd.json (the npm scripts and the gpugrad command do this for you); ' +
  'on a machine with a GPU, install its Vulkan driver. Or use the CPU backend: GPUGRAD_DEVICE=cpu.';

export const nodePlatform: Platform = {
  name: 'node',
  env: (key) => process.env[key],
  warn: (line) => { process.stderr.write(`${line}\n`); },
  async requestGPU() {
    let mod: typeof import('webgpu');
    try {
      mod = await import('webgpu');
    } catch (e) {
      return { reason: `the 'webgpu' package could not be loaded (${(e as Error).message})` };
    }
    // Dawn's constants (GPUBufferUsage, GPUShaderStage, ...) are globals in a browser; the bindings export them.
    Object.assign(globalThis, mod.globals);
    const flags = (process.env.GPUGRAD_DAWN_FLAGS ?? '').split(' ').filter(Boolean);
    return { gpu: mod.create(flags) };
  },
  onExit: (fn) => { process.once('beforeExit', fn); },
  howToGetWebGPU: HOW_TO_GET_WEBGPU,
  cores: () => availableParallelism(),
  // execArgv: [] — the parent's flags are not the worker's (`node --input-type=module -e ...` would stop it starting)
  startWorker: (url, workerData) => new Worker(url, { workerData, execArgv: [] }),
};
