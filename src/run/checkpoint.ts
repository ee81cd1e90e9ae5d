/**
 * What a checkpoint of training holds (a model's parameters and its Adam state) and the checkpointed loop of the
 * function experiments. No file access here (that is checkpoint-file.ts): the playground page runs these loops too.
 */
import type { Adam, Module, Tensor } from '../api.js';
import type { Checkpoint, Restored, Unit } from './types.js';

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
  let failure: { error: unknown } | null = null;
  const record = (it: number) => {
    const r = o.record(it);
    // awaited through `reading`; a failure (or a stop asked for, thrown where a row is logged) also ends the loop at
    // its next step rather than after up to `checkpointEvery` steps whose work would be thrown away
    r.catch((error) => { failure ??= { error }; });
    reading = reading.then(() => r);
    reading.catch(() => {}); // the loop may end on `failure` without awaiting `reading`: not an unhandled rejection
  };
  for (let it = o.from; it < o.iterations;) {
    if (failure) throw (failure as { error: unknown }).error;
    o.step();
    it++;
    if (o.full()) {
      record(it);
      // Steps only enqueue work: without a turn of the event loop here, reads, progress and signals would all wait
      // for the next checkpoint.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
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
