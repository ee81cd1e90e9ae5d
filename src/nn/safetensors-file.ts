/**
 * Safetensors files on disk (Node only): `save` and `load`. The format itself is in safetensors.ts, which a browser
 * page can use on bytes it fetched or will download.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { DeviceName } from '../kernels/backend.js';
import { GpugradError, check } from '../core/errors.js';
import { tensor } from '../tensor/creation.js';
import { getDevice } from '../tensor/device.js';
import { Tensor } from '../tensor/tensor.js';
import { type HostTensor, decodeSafetensors, encodeSafetensors } from './safetensors.js';

/** Writes tensors (e.g. `model.stateDict()`) to `path` as safetensors. Reads them back from the device first. */
export async function save(tensors: Readonly<Record<string, Tensor>>, path: string, metadata?: Record<string, string>): Promise<void> {
  check(typeof tensors === 'object' && tensors !== null, 'save', 'needs an object of tensors by name (e.g. model.stateDict())');
  check(typeof path === 'string' && path !== '', 'save', () => `needs a file path, got ${JSON.stringify(path)}`);
  const host: [string, HostTensor][] = [];
  for (const [name, t] of Object.entries(tensors)) {
    check(t instanceof Tensor, 'save', `'${name}' is not a Tensor`);
    host.push([name, { dtype: t.dtype, shape: [...t.shape], data: await t.data() }]);
  }
  const bytes = encodeSafetensors(Object.fromEntries(host), metadata);
  await writeFile(path, bytes).catch((e: Error) => { throw new GpugradError(`save: cannot write ${path}: ${e.message}`); });
}

export interface LoadOptions {
  /** where to put the tensors (default: the current device) */
  device?: DeviceName;
  /** convert floating-point tensors to this dtype (e.g. float32 for WebGPU, which has no float64) */
  dtype?: 'float32' | 'float64';
}

/** Reads a safetensors file into tensors by name (use with `model.loadStateDict(await load(path))`). */
export async function load(path: string, { device = getDevice(), dtype }: LoadOptions = {}): Promise<Record<string, Tensor>> {
  check(typeof path === 'string' && path !== '', 'load', () => `needs a file path, got ${JSON.stringify(path)}`);
  const file = await readFile(path).catch((e: Error) => { throw new GpugradError(`load: cannot read ${path}: ${e.message}`); });
  const { tensors } = decodeSafetensors(new Uint8Array(file), path);
  const wanted = Object.entries(tensors).map(([name, t]) => {
    const want = t.dtype !== 'int32' && dtype ? dtype : t.dtype;
    check(want !== 'float64' || device !== 'webgpu', 'load', `'${name}' is float64, which ${device} does not have; ` +
      "pass {dtype: 'float32'} to convert, or load onto the cpu or wasm device");
    return [name, t, want] as const;
  });
  // built with fromEntries, not by assignment: a tensor named __proto__ is a tensor like any other
  return Object.fromEntries(wanted.map(([name, t, want]) => [name, tensor(t.data, { shape: t.shape, dtype: want, device })]));
}
