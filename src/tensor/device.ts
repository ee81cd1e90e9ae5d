/**
 * Devices: the CPU reference backend is always there; the wasm device (WebAssembly SIMD, on worker threads where the
 * platform has them) wherever WebAssembly is; WebGPU is probed once when the library loads, through the platform the
 * entry point installed (Dawn under Node, navigator.gpu in a browser: see core/platform.ts).
 * Choice: `GPUGRAD_DEVICE=webgpu|wasm|cpu` (Node), or `setDevice(...)`; automatic under Node = WebGPU on a real GPU,
 * else wasm — with one line on stderr saying so when the adapter is a software one (SwiftShader emulates a GPU on the
 * CPU, several times slower than the wasm kernels on the same cores) or when there is none. In a page (no worker
 * threads from the platform) WebGPU whenever there is an adapter, else the CPU, as before; wasm is there to choose.
 */
import type { Backend, DeviceName } from '../kernels/backend.js';
import { CpuBackend } from '../kernels/cpu/backend.js';
import { GpugradError } from '../core/errors.js';
import { type Platform, platform, setPlatform } from '../core/platform.js';
import { WasmBackend } from '../kernels/wasm/backend.js';
import { WebGPUBackend } from '../kernels/webgpu/backend.js';
import { Runtime } from '../kernels/webgpu/runtime.js';
import { setPoolStats } from './memory.js';

const cpu = new CpuBackend();
let webgpu: WebGPUBackend | null = null;
let webgpuReason = 'WebGPU was not initialised';
let wasm: WasmBackend | null = null;
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

/** Threads of the wasm device: GPUGRAD_WASM_THREADS, else one per core. Read once, when the device starts. */
function wasmThreads(): number {
  const env = platform().env('GPUGRAD_WASM_THREADS');
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new GpugradError(`GPUGRAD_WASM_THREADS=${env} is not a thread count; use a whole number ≥ 1`);
    return n;
  }
  return platform().cores?.() ?? 1;
}

/**
 * The wasm device's gemm multiply-add: GPUGRAD_WASM_FMA=0 keeps SIMD128's mul + add, 1 requires relaxed SIMD's FMA
 * (an error where the engine lacks it), unset uses it where the engine has it. Read once, when the device starts.
 */
function newWasm(): WasmBackend {
  const env = platform().env('GPUGRAD_WASM_FMA');
  if (env !== undefined && env !== '' && env !== '0' && env !== '1') {
    throw new GpugradError(`GPUGRAD_WASM_FMA=${env} is not 0 or 1; use 0 (SIMD128 mul + add), 1 (relaxed SIMD FMA) or leave it unset (FMA where available)`);
  }
  return new WasmBackend({ fma: env === '1' ? true : env === '0' ? false : undefined });
}

/** Starts the wasm device with its worker threads (idempotent). */
export async function initWasm(): Promise<void> {
  wasm ??= newWasm();
  await wasm.startThreads(wasmThreads(), platform().startWorker);
}

/** True when the only adapter Dawn found emulates a GPU on the CPU (SwiftShader, or a fallback adapter). */
function softwareAdapter(): boolean {
  return webgpu !== null && (webgpu.runtime.isSwiftShader || webgpu.runtime.isFallback);
}

/** Chooses the default device from GPUGRAD_DEVICE (or automatically) after probing WebGPU. */
export async function initDevices(): Promise<void> {
  const want = platform().env('GPUGRAD_DEVICE');
  if (want && want !== 'cpu' && want !== 'webgpu' && want !== 'wasm' && want !== 'auto') {
    throw new GpugradError(`GPUGRAD_DEVICE=${want} is not a device; use webgpu, wasm, cpu or auto`);
  }
  const ok = want === 'cpu' || want === 'wasm' ? false : await initWebGPU();
  if (want === 'webgpu' && !ok) throw new GpugradError(`GPUGRAD_DEVICE=webgpu but ${webgpuReason}. ${howToGetWebGPU()}`);
  if (want === 'cpu') { current = 'cpu'; return; }
  await initWasm();
  // wasm is the automatic choice where it has worker threads (Node); in a page it is opt-in (setDevice('wasm')), and
  // the test suite (GPUGRAD_REQUIRE_WEBGPU=1) keeps WebGPU the default on SwiftShader: it is there to test the kernels
  const auto = platform().startWorker !== undefined;
  const software = ok && softwareAdapter() && platform().env('GPUGRAD_REQUIRE_WEBGPU') !== '1';
  if (want === 'wasm') current = 'wasm';
  else if (want === 'webgpu' || (ok && !(auto && software))) current = 'webgpu';
  else current = auto ? 'wasm' : 'cpu';
  if (!want && !platform().env('GPUGRAD_QUIET')) {
    if (current === 'wasm') {
      platform().warn(ok
        ? `gpugrad: the only WebGPU adapter is a software one (${webgpu!.describe()}); running on the wasm device ` +
          '(WebAssembly SIMD, faster on the same CPU); --device webgpu or GPUGRAD_DEVICE=webgpu chooses WebGPU'
        : `gpugrad: no WebGPU adapter (${webgpuReason}); running on the wasm device (WebAssembly SIMD on the CPU)`);
    } else if (current === 'cpu') {
      platform().warn(`gpugrad: no WebGPU adapter (${webgpuReason}); running on the CPU backend`);
    }
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
  if (name === undefined) throw new GpugradError("setDevice: needs a device name, 'webgpu', 'wasm' or 'cpu'");
  getBackend(name);
  current = name;
}

export function getDevice(): DeviceName { return current; }

export function hasWebGPU(): boolean { return webgpu !== null && !webgpu.runtime.isShutDown; }

export function getBackend(name: DeviceName = current): Backend {
  if (name === 'cpu') return cpu;
  if (name === 'wasm') return (wasm ??= newWasm()); // single-threaded until initWasm() has started threads
  if (name === 'webgpu') {
    if (!webgpu || webgpu.runtime.isShutDown) {
      throw new GpugradError(`device webgpu is not available: ${webgpuReason}. ${howToGetWebGPU()}`);
    }
    return webgpu;
  }
  throw new GpugradError(`device '${name as string}' is not a device; use 'webgpu', 'wasm' or 'cpu'`);
}

/**
 * Each device's backend here, or null where it is not available. Keyed by DeviceName, so a new device must be listed
 * (the type checker says so) — and `availableDevices`, which the op tests run on, picks it up.
 */
const backends: Record<DeviceName, () => Backend | null> = {
  cpu: () => cpu,
  webgpu: () => (hasWebGPU() ? webgpu : null),
  wasm: () => getBackend('wasm'),
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
  wasm?.shutdown();
  if (current === 'webgpu') current = 'cpu';
}
