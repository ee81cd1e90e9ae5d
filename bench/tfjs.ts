/**
 * TensorFlow.js's WebGPU backend on gpugrad's own GPUDevice: same Dawn instance, same adapter, same device, same
 * process. Sharing the device is the strictest "same adapter" there is (a Dawn adapter can create only one device),
 * and it lets one timestamp probe time both libraries.
 *
 * TF.js registers its 'webgpu' backend at import time only when `navigator.gpu` exists; its factory would request an
 * adapter of its own, so we replace the factory with one that wraps our device. TF.js's kernels are registered under
 * the name 'webgpu', so the replacement keeps that name. `@tensorflow/tfjs` (not tfjs-core alone) is imported because
 * it registers the gradients that training needs.
 */
import type * as TF from '@tensorflow/tfjs';

export type Tf = typeof TF;

export interface TfjsHandle {
  tf: Tf;
  version: string;
  /** Submits what TF.js has recorded (it batches up to WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE dispatches per submit). */
  flush(): void;
}

export async function loadTfjs(device: GPUDevice, info: GPUAdapterInfo): Promise<TfjsHandle | { error: string }> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    // only its truthiness is checked; the factory below never asks it for an adapter
    const stub = { requestAdapter: () => Promise.reject(new Error('bench: TF.js must use gpugrad\'s device')) };
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu: stub }, configurable: true, writable: true });
  }
  let tf: Tf;
  let WebGPUBackend: new (device: GPUDevice, info: GPUAdapterInfo) => TF.KernelBackend;
  const warn = console.warn;
  try {
    console.warn = () => {}; // TF.js greets Node users with advice to install tfjs-node
    tf = await import('@tensorflow/tfjs');
    ({ WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu') as unknown as { WebGPUBackend: typeof WebGPUBackend });
  } catch (e) {
    return { error: `TensorFlow.js could not be loaded (${(e as Error).message}); install the dev dependencies` };
  } finally {
    console.warn = warn;
  }
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, info));
  if (!(await tf.setBackend('webgpu'))) return { error: 'TF.js could not start its WebGPU backend on gpugrad\'s device' };
  await tf.ready();
  const backend = tf.backend() as unknown as {
    commandEncoder: GPUCommandEncoder | null; endComputePassEncoder(): void; submitQueue(): void;
  };
  return {
    tf,
    version: tf.version.tfjs,
    flush() {
      backend.endComputePassEncoder();
      if (backend.commandEncoder) backend.submitQueue();
    },
  };
}
