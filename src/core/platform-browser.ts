/**
 * The browser platform (see platform.ts): WebGPU from `navigator.gpu`, messages on the console, no environment variables
 * (choose a device with `setDevice` or per tensor), and nothing to release at exit (the page owns the device).
 * Only src/browser.ts imports this file; it touches no Node built-in.
 */
import type { Platform } from './platform.js';

export const HOW_TO_GET_WEBGPU = 'Use a browser with WebGPU (Chrome or Edge 113+, Safari 26+, Firefox 141+ on Windows; ' +
  "Chromium on Linux with --enable-unsafe-webgpu), or the CPU backend: setDevice('cpu').";

export const browserPlatform: Platform = {
  name: 'browser',
  env: () => undefined,
  warn: (line) => console.warn(line),
  async requestGPU() {
    const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    return gpu ? { gpu } : { reason: 'this browser has no navigator.gpu (WebGPU is off or unsupported)' };
  },
  onExit: () => {},
  howToGetWebGPU: HOW_TO_GET_WEBGPU,
};
