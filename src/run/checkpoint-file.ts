/**
 * Checkpoint files for `--resume`: safetensors (the library's encoder, so PyTorch's `safetensors` reads them too),
 * tensors under `tensor.<name>`, host arrays under `array.<name>`, small JSON state in the header's `__metadata__`
 * (safetensors allows only string values there, so it is one JSON string). Written durably (files.ts). Importing this
 * module loads the library (and probes WebGPU): the CLI imports it only once the device is chosen.
 */
import { readFile } from 'node:fs/promises';
import { GpugradError, type HostTensor, decodeSafetensors, encodeSafetensors } from '../index.js';
import { writeAtomic } from './files.js';

/**
 * Writes a checkpoint durably (see files.ts). GPUGRAD_TEST_STALL_CHECKPOINT=<ms> is a test hook: each write stalls
 * that long once its data is on disk, before the rename, and says so on stderr, so a test can interrupt it there.
 */
export async function writeCheckpoint(path: string, tensors: Record<string, HostTensor>, json: unknown): Promise<void> {
  const stall = Number(process.env.GPUGRAD_TEST_STALL_CHECKPOINT ?? 0);
  await writeAtomic(path, encodeSafetensors(tensors, { json: JSON.stringify(json ?? null) }), stall > 0 ? {
    beforeRename: async (tmp) => {
      process.stderr.write(`gpugrad-test: checkpoint ${tmp} written, stalling ${stall} ms before the rename\n`);
      await new Promise((resolve) => setTimeout(resolve, stall));
    },
  } : {});
}

export async function readCheckpoint(path: string): Promise<{ tensors: Record<string, HostTensor>; json: unknown }> {
  try {
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(await readFile(path)));
    return { tensors, json: metadata.json ? JSON.parse(metadata.json) : null };
  } catch (e) {
    throw new GpugradError(`${path}: ${(e as Error).message}; this checkpoint cannot be read, so its run cannot be resumed: start a new run without --resume`);
  }
}
