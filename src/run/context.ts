/**
 * The RunContext an experiment runs in: logging into the run folder, derived seeds, progress bars (drawn by whoever
 * runs the experiment: the CLI passes its own), and the resumable units whose checkpoints make `--resume` continue
 * from the last finished epoch.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Generator, tensor, type HostTensor, type Tensor } from '../index.js';
import type { Checkpoint, Preset, Progress, Restored, Row, RunContext, Unit, Value } from './types.js';
import { GpugradError } from '../core/errors.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint-file.js';
import { RunInterrupted } from './interrupt.js';
import type { RunFolder } from './folder.js';

/** FNV-1a over the text: a stable 32-bit seed from the run's seed and labels. */
export function deriveSeed(seed: number, labels: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}/${labels.join('/')}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

export class Context<C> implements RunContext<C> {
  private bars: Progress[] = [];
  private stopSignal: NodeJS.Signals | null = null;
  private abandoned = false;

  constructor(
    private readonly folder: RunFolder,
    readonly config: C,
    readonly seed: number,
    readonly preset: Preset,
    readonly dataDir: string | undefined,
    /** draws a progress bar (the CLI's on its terminal); silent by default */
    private readonly progressBar: (label: string, total: number) => Progress = () => ({ update() {}, line() {}, stop() {} }),
  ) {}

  seedFor(...labels: (string | number)[]): number { return deriveSeed(this.seed, labels); }
  rng(...labels: (string | number)[]): Generator { return new Generator(this.seedFor(...labels)); }

  log(series: string, row: Row): void {
    this.checkStop();
    (this.folder.results.series[series] ??= []).push(row);
    this.folder.maybeWrite();
  }

  series(name: string): readonly Row[] { return this.folder.results.series[name] ?? []; }

  final(values: Record<string, Value>): void {
    this.checkStop();
    Object.assign(this.folder.results.final, values);
  }

  note(text: string): void {
    if (!this.folder.results.notes.includes(text)) this.folder.results.notes.push(text);
  }

  progress(label: string, total: number): Progress {
    const bar = this.progressBar(label, total);
    this.bars.push(bar);
    // an update is a safe point to stop at; a line is not (it comes just before an epoch's checkpoint)
    return { update: (done, status) => { bar.update(done, status); this.checkStop(); }, line: (text) => bar.line(text), stop: () => bar.stop() };
  }

  stopBars(): void { for (const b of this.bars) b.stop(); this.bars = []; }

  /** The first SIGINT/SIGTERM: the next safe point (a logged row, a progress update, a checkpoint) throws RunInterrupted. */
  requestStop(signal: NodeJS.Signals): void { this.stopSignal ??= signal; }

  /** The run is being abandoned: its covered state is being written, so no checkpoint may be committed any more. */
  abandon(signal: NodeJS.Signals): void {
    this.requestStop(signal);
    this.abandoned = true;
  }

  private checkStop(): void {
    if (this.stopSignal) throw new RunInterrupted(this.stopSignal);
  }

  unit(name: string): Unit {
    const folder = this.folder;
    const rec = (folder.results.units[name] ??= { epochsDone: 0, finished: false });
    const stem = `checkpoints/${name.replace(/[^A-Za-z0-9._-]/g, '_')}`;
    // Each checkpoint gets a new file name, and the unit's record moves to it only once the file is durable, in one
    // synchronous step with the savepoint (the rows it covers): results.json, whenever it is written (every few
    // seconds, or after a signal), never claims progress its checkpoints lack. The old file goes only after that.
    const commit = async (epochsDone: number, finished: boolean, state: Checkpoint | undefined, keepOld: boolean) => {
      const covered = folder.coverage();
      const old = rec.checkpoint;
      let file = keepOld ? old : undefined;
      if (state) {
        const arrays: Record<string, HostTensor> = {};
        for (const [k, t] of Object.entries(state.tensors ?? {})) arrays[`tensor.${k}`] = { dtype: t.dtype, shape: [...t.shape], data: await t.data() };
        for (const [k, a] of Object.entries(state.arrays ?? {})) arrays[`array.${k}`] = { dtype: 'float32', shape: [a.length], data: a };
        file = `${stem}-${finished ? 'final' : `e${epochsDone}`}.safetensors`;
        await writeCheckpoint(join(folder.dir, file), arrays, state.json);
      }
      if (this.abandoned) throw new RunInterrupted(this.stopSignal!); // the file stays unnamed; a resume removes it
      rec.epochsDone = epochsDone;
      rec.finished = finished;
      if (file) rec.checkpoint = file;
      else delete rec.checkpoint;
      folder.results.savepoint = covered;
      await folder.write();
      if (old && old !== file) await rm(join(folder.dir, old), { force: true });
      this.checkStop();
    };
    return {
      name,
      finished: rec.finished,
      epochsDone: rec.epochsDone,
      async restore(): Promise<Restored | null> {
        if (!rec.checkpoint) return null;
        const path = join(folder.dir, rec.checkpoint);
        if (!existsSync(path)) throw new GpugradError(`unit ${name}: its checkpoint ${path} is missing; it cannot continue where it stopped`);
        const { tensors: arrays, json } = await readCheckpoint(path);
        const tensors: Record<string, Tensor> = {};
        const host: Record<string, Float32Array> = {};
        for (const [k, a] of Object.entries(arrays)) {
          if (k.startsWith('tensor.')) tensors[k.slice(7)] = tensor(a.data, { shape: a.shape, dtype: a.dtype });
          else if (k.startsWith('array.')) host[k.slice(6)] = a.data as Float32Array;
        }
        return { tensors, arrays: host, json };
      },
      // without a state the previous checkpoint stays (a unit whose progress needs none, e.g. a sweep)
      epochDone: (epochsDone: number, state?: Checkpoint) => commit(epochsDone, false, state, true),
      // without a state the last epoch's checkpoint goes: it is not needed once the unit is finished
      finish: (state?: Checkpoint) => commit(rec.epochsDone, true, state, false),
    };
  }

  flush(): Promise<void> { return this.folder.write(); }
}
