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
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import type { RunFolder } from './folder.js';

/** FNV-1a over the text: a stable 32-bit seed from the run's seed and labels. */
export function deriveSeed(seed: number, labels: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}/${labels.join('/')}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

export class Context<C> implements RunContext<C> {
  private bars: Progress[] = [];

  constructor(
    private folder: RunFolder,
    readonly config: C,
    readonly seed: number,
    readonly preset: Preset,
    readonly dataDir: string | undefined,
    /** draws a progress bar (the CLI's on its terminal); silent by default */
    private readonly progressBar: (label: string, total: number) => Progress = () => ({ update() {}, stop() {} }),
  ) {}

  seedFor(...labels: (string | number)[]): number { return deriveSeed(this.seed, labels); }
  rng(...labels: (string | number)[]): Generator { return new Generator(this.seedFor(...labels)); }

  log(series: string, row: Row): void {
    (this.folder.results.series[series] ??= []).push(row);
    this.folder.maybeWrite();
  }

  series(name: string): readonly Row[] { return this.folder.results.series[name] ?? []; }

  final(values: Record<string, Value>): void {
    Object.assign(this.folder.results.final, values);
  }

  note(text: string): void {
    if (!this.folder.results.notes.includes(text)) this.folder.results.notes.push(text);
  }

  progress(label: string, total: number): Progress {
    const bar = this.progressBar(label, total);
    this.bars.push(bar);
    return bar;
  }

  stopBars(): void { for (const b of this.bars) b.stop(); this.bars = []; }

  unit(name: string): Unit {
    const units = this.folder.results.units;
    const rec = (units[name] ??= { epochsDone: 0, finished: false });
    const folder = this.folder;
    const stem = `checkpoints/${name.replace(/[^A-Za-z0-9._-]/g, '_')}`;
    // Each checkpoint gets a new file name, and results.json points at it only once it is complete: a kill at any
    // moment leaves results.json and the checkpoint it names in agreement.
    const save = async (state?: Checkpoint) => {
      const old = rec.checkpoint;
      if (state) {
        const arrays: Record<string, HostTensor> = {};
        for (const [k, t] of Object.entries(state.tensors ?? {})) arrays[`tensor.${k}`] = { dtype: t.dtype, shape: [...t.shape], data: await t.data() };
        for (const [k, a] of Object.entries(state.arrays ?? {})) arrays[`array.${k}`] = { dtype: 'float32', shape: [a.length], data: a };
        const file = `${stem}-${rec.finished ? 'final' : `e${rec.epochsDone}`}.safetensors`;
        await writeCheckpoint(join(folder.dir, file), arrays, state.json);
        rec.checkpoint = file;
      }
      folder.savepoint();
      await folder.write();
      if (old && old !== rec.checkpoint) await rm(join(folder.dir, old), { force: true });
    };
    return {
      name,
      finished: rec.finished,
      epochsDone: rec.epochsDone,
      async restore(): Promise<Restored | null> {
        if (!rec.checkpoint || !existsSync(join(folder.dir, rec.checkpoint))) return null;
        const { tensors: arrays, json } = await readCheckpoint(join(folder.dir, rec.checkpoint));
        const tensors: Record<string, Tensor> = {};
        const host: Record<string, Float32Array> = {};
        for (const [k, a] of Object.entries(arrays)) {
          if (k.startsWith('tensor.')) tensors[k.slice(7)] = tensor(a.data, { shape: a.shape, dtype: a.dtype });
          else if (k.startsWith('array.')) host[k.slice(6)] = a.data as Float32Array;
        }
        return { tensors, arrays: host, json };
      },
      async epochDone(epochsDone: number, state?: Checkpoint) {
        rec.epochsDone = epochsDone;
        await save(state);
      },
      async finish(state?: Checkpoint) {
        rec.finished = true;
        if (!state && rec.checkpoint) {
          // nothing to keep: the last epoch's checkpoint is not needed once the unit is finished
          const old = rec.checkpoint;
          delete rec.checkpoint;
          await save();
          await rm(join(folder.dir, old), { force: true });
          return;
        }
        await save(state);
      },
    };
  }

  flush(): Promise<void> { return this.folder.write(); }
}
