/**
 * Devices: the CPU reference backend is always there; WebGPU is probed once when the library loads, through the
 * platform the entry point installed (Dawn under Node, navigator.gpu in a browser: see core/platform.ts).
 * Choice: `GPUGRAD_DEVICE=webgpu|cpu` (Node), or `setDevice(...)`; automatic = WebGPU when an adapter exists, else the
 * CPU with one line on stderr (the console in a browser) saying so.
 */
import type { Backend, DeviceName } from '../kernels/backend.js';
import { CpuBackend } from '../kernels/cpu/backend.js';
import { GpugradError } from '../core/errors.js';
import { type Platform, platform, setPlatform } from '../core/platform.js';
import { WebGPUBackend } from '../kernels/webgpu/backend.js';
import { Runtime } from '../kernels/webgpu/runtime.js';
import { setPoolStats } from './memory.js';

const cpu = new CpuBackend();
let webgpu: WebGPUBackend | null = null;
let webgpuReason = 'WebGPU was not initialised';
let current: DeviceName = 'cpu';

/** What to do when WebGPU is missing, in the current environment's terms (Node: SwiftShader or a Vulkan driver). */
export function howToGetWebGPU(): string { return platform().howToGetWebGPU; }

/** Probes WebGPU once; returns whether an adapter was found. */
export async function initWebGPU(): Promise<boolean> {
  if (webgpu && !webgpu.runtime.isShutDown) return true;
  if (platform().env('GPUGRAD_WEBGPU') === '0') { webgpuReason = 'GPUGRAD_WEBGPU=0 turned WebGPU off'; return false; }
  const { runtime, reason } = await Runtime.create();
  if (!runtime) { webgpuReason = reason ?? 'no adapter'; return false; }
  webgpu = new WebGPUBackend(runtime);
  platform().onExit(() => shutdown());
  return true;
}

/** Chooses the default device from GPUGRAD_DEVICE (or automatically) after probing WebGPU. */
export async function initDevices(): Promise<void> {
  const want = platform().env('GPUGRAD_DEVICE');
  if (want && want !== 'cpu' && want !== 'webgpu' && want !== 'auto') {
    throw new GpugradError(`GPUGRAD_DEVICE=${want} is not a device; use webgpu, cpu or auto`);
  }
  const ok = want === 'cpu' ? false : await initWebGPU();
  if (want === 'webgpu' && !ok) throw new GpugradError(`GPUGRAD_DEVICE=webgpu but ${webgpuReason}. ${howToGetWebGPU()}`);
  current = ok ? 'webgpu' : 'cpu';
  if (!want && !ok && !platform().env('GPUGRAD_QUIET')) {
    platform().warn(`gpugrad: no WebGPU adapter (${webgpuReason}); running on the CPU backend`);
  }
}

/** What an entry point does once when it loads: install its environment's platform, probe the devices, and let
 * `memory()` report the WebGPU buffer pool. */
export async function startDevices(p: Platform): Promise<void> {
  setPlatform(p);
  await initDevices();
  setPoolStats(() => {
    const rt = webgpuRuntime();
    return rt ? { pooledBytes: rt.storage.pooledBytes, allocatedBytes: rt.storage.allocatedBytes } : null;
  });
}

export function setDevice(name: DeviceName): void {
  // an explicit undefined would fall back to getBackend's default and then leave no current device at all
  if (name === undefined) throw new GpugradError("setDevice: needs a device name, 'webgpu' or 'cpu'");
  getBackend(name);
  current = name;
}

export function getDevice(): DeviceName { return current; }

export function hasWebGPU(): boolean { return webgpu !== null && !webgpu.runtime.isShutDown; }

export function getBackend(name: DeviceName = current): Backend {
  if (name === 'cpu') return cpu;
  if (name === 'webgpu') {
    if (!webgpu || webgpu.runtime.isShutDown) {
      throw new GpugradError(`device webgpu is not available: ${webgpuReason}. ${howToGetWebGPU()}`);
    }
    return webgpu;
  }
  throw new GpugradError(`device '${name as string}' is not a device; use 'webgpu' or 'cpu'`);
}

/**
 * Each device's backend here, or null where it is not available. Keyed by DeviceName, so a new device must be listed
 * (the type checker says so) — and `availableDevices`, which the op tests run on, picks it up.
 */
const backends: Record<DeviceName, () => Backend | null> = {
  cpu: () => cpu,
  webgpu: () => (hasWebGPU() ? webgpu : null),
};

/** The devices this process can run on, the CPU reference first. */
export function availableDevices(): DeviceName[] {
  return (Object.keys(backends) as DeviceName[]).filter((d) => backends[d]() !== null);
}

/** The WebGPU runtime (for benchmarks and diagnostics), or null. */
export function webgpuRuntime(): Runtime | null { return hasWebGPU() ? webgpu!.runtime : null; }

/** A one-line description of a device, e.g. `WebGPU: google / swiftshader / SwiftShader driver 5.0.0`. */
export function deviceInfo(name: DeviceName = current): string { return getBackend(name).describe(); }

/** Waits for all submitted GPU work (a no-op on CPU). */
export async function sync(): Promise<void> { if (hasWebGPU()) await webgpu!.runtime.sync(); }

/** Releases the WebGPU device and Dawn instance so the process can exit. Safe to call twice. */
export function shutdown(): void {
  if (webgpu) webgpu.runtime.shutdown();
  if (current === 'webgpu') current = 'cpu';
}
