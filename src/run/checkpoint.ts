/**
 * Checkpoints for `--resume`: the file format, what a model and its Adam put in one, and the checkpointed loop of
 * the function experiments.
 *
 * Files are safetensors (the library's encoder, so PyTorch's `safetensors` reads them too), tensors under
 * `tensor.<name>`, host arrays under `array.<name>`, small JSON state in the header's `__metadata__` (safetensors
 * allows only string values there, so it is one JSON string). Written atomically. Importing this module loads the
 * library (and probes WebGPU): the CLI imports it only once the device is chosen.
 */
import { readFile } from 'node:fs/promises';
import { type Adam, type HostTensor, type Module, type Tensor, decodeSafetensors, encodeSafetensors } from '../index.js';
import { writeAtomic } from './folder.js';
import type { Checkpoint, Restored, Unit } from './types.js';

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

/** A model's parameters and its Adam state, for unit.epochDone(). */
export function trainingState(model: Module, opt: Adam, json: Record<string, unknown> = {}): Checkpoint {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of model.namedParameters()) tensors[`model.${k}`] = t;
  const state = opt.stateDict();
  for (const [k, t] of Object.entries(state.tensors)) tensors[`adam.${k}`] = t; // adam.<i>.m, adam.<i>.v
  return { tensors, json: { ...json, adamSteps: state.stepCount } };
}

/** Puts a checkpoint from trainingState() back into a model and its Adam (moments and step count). */
export function restoreTraining(r: Restored, model: Module, opt: Adam): void {
  const params: Record<string, Tensor> = {};
  const adam: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(r.tensors)) {
    if (k.startsWith('model.')) params[k.slice('model.'.length)] = t;
    else if (k.startsWith('adam.')) adam[k.slice('adam.'.length)] = t;
  }
  model.loadStateDict(params);
  opt.loadStateDict({ stepCount: (r.json as { adamSteps?: number })?.adamSteps ?? opt.stepCount, tensors: adam });
  for (const t of Object.values(r.tensors)) t.dispose();
}

/**
 * The full-batch loop of the function experiments: from iteration `from`, `step()` until `iterations`; `record(it)`
 * (read the pending metrics back) whenever `full()` says the log is full, and at every `checkpointEvery`-th iteration
 * and the last, a record and a checkpoint of `state()` — so a resume restarts from the last checkpoint with every
 * metric before it already logged. Reads are asynchronous: a record starts its read (the logs' drain() takes the block
 * at the call) and the loop goes on stepping; the records complete in order, and all of them before a checkpoint.
 */
export async function iterateWithCheckpoints(unit: Unit, o: {
  from: number; iterations: number; checkpointEvery: number;
  step: () => void; full: () => boolean; record: (it: number) => Promise<void>; state: () => Checkpoint;
}): Promise<void> {
  let reading: Promise<void> = Promise.resolve();
  const record = (it: number) => {
    const r = o.record(it);
    r.catch(() => {}); // awaited through `reading`; this only keeps an early failure from going unhandled
    reading = reading.then(() => r);
  };
  for (let it = o.from; it < o.iterations;) {
    o.step();
    it++;
    if (o.full()) record(it);
    if (it % o.checkpointEvery === 0 || it === o.iterations) {
      record(it);
      await reading;
      await unit.epochDone(it, o.state());
    }
  }
}

/** Restores a unit's model and optimizer when it has a checkpoint; returns the epochs already done. */
export async function resumeTraining(unit: Unit, model: Module, opt: Adam): Promise<number> {
  const r = await unit.restore();
  if (!r) return 0;
  restoreTraining(r, model, opt);
  return unit.epochsDone;
}
