/**
 * Devices: the CPU reference backend is always there; the wasm device (WebAssembly SIMD on worker threads) wherever
 * WebAssembly is; WebGPU is probed once when the library loads.
 * Choice: `GPUGRAD_DEVICE=webgpu|wasm|cpu`, or `setDevice(...)`; automatic = WebGPU on a real GPU, else wasm — with one
 * line on stderr saying so when the adapter is a software one (SwiftShader emulates a GPU on the CPU, several times
 * slower than the wasm kernels on the same cores) or when there is none.
 */
import type { Backend, DeviceName } from '../kernels/backend.js';
import { CpuBackend } from '../kernels/cpu/backend.js';
import { GpugradError } from '../kernels/errors.js';
import { WasmBackend } from '../kernels/wasm/backend.js';
import { WebGPUBackend } from '../kernels/webgpu/backend.js';
import { Runtime } from '../kernels/webgpu/runtime.js';

const cpu = new CpuBackend();
let webgpu: WebGPUBackend | null = null;
let webgpuReason = 'WebGPU was not initialised';
let wasm: WasmBackend | null = null;
let current: DeviceName = 'cpu';

export const HOW_TO_GET_WEBGPU =
  'On Linux without a GPU, install SwiftShader (a CPU Vulkan driver) with `scripts/setup-swiftshader.sh` and run with ' +
  'VK_ICD_FILENAMES pointing at its vk_swiftshader_icd.json (the npm scripts do this for you); on a machine with a GPU, ' +
  'install its Vulkan driver. Or use the CPU backend: GPUGRAD_DEVICE=cpu.';

/** Probes WebGPU once; returns whether an adapter was found. */
export async function initWebGPU(): Promise<boolean> {
  if (webgpu && !webgpu.runtime.isShutDown) return true;
  if (process.env.GPUGRAD_WEBGPU === '0') { webgpuReason = 'GPUGRAD_WEBGPU=0 turned WebGPU off'; return false; }
  const flags = (process.env.GPUGRAD_DAWN_FLAGS ?? '').split(' ').filter(Boolean);
  const { runtime, reason } = await Runtime.create(flags);
  if (!runtime) { webgpuReason = reason ?? 'no adapter'; return false; }
  webgpu = new WebGPUBackend(runtime);
  process.once('beforeExit', () => shutdown());
  return true;
}

/**
 * Threads of the wasm device: GPUGRAD_WASM_THREADS, else one per core. Read once, when the device starts.
 */
async function wasmThreads(): Promise<number> {
  const env = process.env.GPUGRAD_WASM_THREADS;
  if (env !== undefined) {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new GpugradError(`GPUGRAD_WASM_THREADS=${env} is not a thread count; use a whole number ≥ 1`);
    return n;
  }
  try {
    const os = await import('node:os');
    return os.availableParallelism();
  } catch {
    return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  }
}

/** Starts the wasm device with its worker threads (idempotent). */
export async function initWasm(): Promise<void> {
  wasm ??= new WasmBackend();
  await wasm.startThreads(await wasmThreads());
}

/** True when the only adapter Dawn found emulates a GPU on the CPU (SwiftShader, or a fallback adapter). */
function softwareAdapter(): boolean {
  return webgpu !== null && (webgpu.runtime.isSwiftShader || webgpu.runtime.isFallback);
}

/** Chooses the default device from GPUGRAD_DEVICE (or automatically) after probing WebGPU. */
export async function initDevices(): Promise<void> {
  const want = process.env.GPUGRAD_DEVICE;
  if (want && want !== 'cpu' && want !== 'webgpu' && want !== 'wasm' && want !== 'auto') {
    throw new GpugradError(`GPUGRAD_DEVICE=${want} is not a device; use webgpu, wasm, cpu or auto`);
  }
  const ok = want === 'cpu' || want === 'wasm' ? false : await initWebGPU();
  if (want === 'webgpu' && !ok) throw new GpugradError(`GPUGRAD_DEVICE=webgpu but ${webgpuReason}. ${HOW_TO_GET_WEBGPU}`);
  if (want === 'cpu') { current = 'cpu'; return; }
  await initWasm();
  // the test suite (GPUGRAD_REQUIRE_WEBGPU=1) keeps WebGPU the default on SwiftShader: it is there to test the kernels
  const software = ok && softwareAdapter() && process.env.GPUGRAD_REQUIRE_WEBGPU !== '1';
  current = want === 'webgpu' || (ok && !software && want !== 'wasm') ? 'webgpu' : 'wasm';
  if (!want && current === 'wasm' && !process.env.GPUGRAD_QUIET) {
    process.stderr.write(ok
      ? `gpugrad: the only WebGPU adapter is a software one (${webgpu!.describe()}); running on the wasm device ` +
        '(WebAssembly SIMD, faster on the same CPU); --device webgpu or GPUGRAD_DEVICE=webgpu chooses WebGPU\n'
      : `gpugrad: no WebGPU adapter (${webgpuReason}); running on the wasm device (WebAssembly SIMD on the CPU)\n`);
  }
}

export function setDevice(name: DeviceName): void {
  getBackend(name);
  current = name;
}

export function getDevice(): DeviceName { return current; }

export function hasWebGPU(): boolean { return webgpu !== null && !webgpu.runtime.isShutDown; }

export function getBackend(name: DeviceName = current): Backend {
  if (name === 'cpu') return cpu;
  if (name === 'wasm') return (wasm ??= new WasmBackend()); // single-threaded until initWasm() has started threads
  if (name === 'webgpu') {
    if (!webgpu || webgpu.runtime.isShutDown) {
      throw new GpugradError(`device webgpu is not available: ${webgpuReason}. ${HOW_TO_GET_WEBGPU}`);
    }
    return webgpu;
  }
  throw new GpugradError(`device '${name as string}' is not a device; use 'webgpu', 'wasm' or 'cpu'`);
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
  wasm?.shutdown();
  if (current === 'webgpu') current = 'cpu';
}
