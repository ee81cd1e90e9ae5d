/**
 * What the WebGPU backend's dispatch modules share: its storage type, and `DispatchHost` — the backend's services that
 * the per-family dispatch code (./matmul.ts, ./vision.ts) chains after its own kernels (allocating outputs, summing
 * split-K partials, filling an empty gradient), so those modules need not know the whole backend.
 */
import type { Backend, DType, Storage } from '../backend.js';
import type { PooledBuffer } from './pool.js';
import type { Runtime } from './runtime.js';

export class GpuStorage implements Storage {
  released = false;
  constructor(readonly backend: Backend, readonly buf: PooledBuffer, readonly length: number, readonly dtype: DType) {}
}

/** The device buffer behind a storage of the WebGPU backend. */
export const gpuBuffer = (s: Storage): PooledBuffer => (s as GpuStorage).buf;

export interface DispatchHost {
  runtime: Runtime;
  out(length: number, dtype: 'float32' | 'int32'): GpuStorage;
  reduce(op: 'sum', x: Storage, outer: number, reduce: number, inner: number): Storage;
  fill(length: number, value: number, dtype: 'float32'): Storage;
  release(s: Storage): void;
}
