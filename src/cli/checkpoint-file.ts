/**
 * Checkpoint files for `--resume`: safetensors (the library's encoder, so PyTorch's `safetensors` reads them too),
 * tensors under `tensor.<name>`, host arrays under `array.<name>`, small JSON state in the header's `__metadata__`
 * (safetensors allows only string values there, so it is one JSON string). Written atomically. Importing this module
 * loads the library (and probes WebGPU): the CLI imports it only once the device is chosen.
 */
import { readFile } from 'node:fs/promises';
import { type HostTensor, decodeSafetensors, encodeSafetensors } from '../index.js';
import { writeAtomic } from './run-folder.js';

export async function writeCheckpoint(path: string, tensors: Record<string, HostTensor>, json: unknown): Promise<void> {
  await writeAtomic(path, encodeSafetensors(tensors, { json: JSON.stringify(json ?? null) }));
}

export async function readCheckpoint(path: string): Promise<{ tensors: Record<string, HostTensor>; json: unknown }> {
  try {
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(await readFile(path)));
    return { tensors, json: metadata.json ? JSON.parse(metadata.json) : null };
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}; delete the run folder's checkpoint (or the folder) and run without --resume`);
  }
}
