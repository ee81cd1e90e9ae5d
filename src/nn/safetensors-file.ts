/**
 * Safetensors files on disk (Node only): `save` and `load`. The format itself is in safetensors.ts, which a browser
 * page can use on bytes it fetched or will download.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { DeviceName } from '../kernels/backend.js';
import { check } from '../core/errors.js';
import { tensor } from '../tensor/creation.js';
import { getDevice } from '../tensor/device.js';
import { Tensor } from '../tensor/tensor.js';
import { type HostTensor, decodeSafetensors, encodeSafetensors } from './safetensors.js';

/** Writes tensors (e.g. `model.stateDict()`) to `path` as safetensors. Reads them back from the device first. */
export async function save(tensors: Readonly<Record<string, Tensor>>, path: string, metadata?: Record<string, string>): Promise<void> {
  const host: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    check(t instanceof Tensor, 'save', `'${name}' is not a Tensor`);
    host[name] = { dtype: t.dtype, shape: [...t.shape], data: await t.data() };
  }
  await writeFile(path, encodeSafetensors(host, metadata));
}

export interface LoadOptions {
  /** where to put the tensors (default: the current device) */
  device?: DeviceName;
  /** convert floating-point tensors to this dtype (e.g. float32 for WebGPU, which has no float64) */
  dtype?: 'float32' | 'float64';
}

/** Reads a safetensors file into tensors by name (use with `model.loadStateDict(await load(path))`). */
export async function load(path: string, { device = getDevice(), dtype }: LoadOptions = {}): Promise<Record<string, Tensor>> {
  const { tensors } = decodeSafetensors(new Uint8Array(await readFile(path)));
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const want = t.dtype !== 'int32' && dtype ? dtype : t.dtype;
    check(want !== 'float64' || device === 'cpu', 'load', `'${name}' is float64, which ${device} does not have; ` +
      "pass {dtype: 'float32'} to convert, or load onto the cpu device");
    out[name] = tensor(t.data, { shape: t.shape, dtype: want, device });
  }
  return out;
}
