/**
 * The results schema and the contract between an experiment and whatever runs it. An experiment is a plain object:
 * its presets, a `run(ctx)` that trains and logs through the context, and `figures(results)` that turns a
 * results.json into Vega-Lite charts. Everything an experiment writes goes through the context, so the run folder
 * (results.json, metrics.csv, checkpoints for --resume) is this floor's business, not the experiment's.
 */
import type { Generator, Tensor } from '../index.js';

export type Preset = 'full' | 'quick' | 'test';
export const PRESETS: readonly Preset[] = ['full', 'quick', 'test'];

/** One row of a logged series: a step, an epoch, a training, a point of a sweep. */
export type Value = number | string | boolean | null;
export type Row = Record<string, Value>;

export interface Experiment<C extends object = object> {
  /** the name on the command line, e.g. `fit-functions` */
  name: string;
  /** the homework's section, e.g. `1-1` */
  section: string;
  title: string;
  /** one line for `gpugrad list` */
  description: string;
  /**
   * What the quick preset must show (the homework's qualitative finding, at a size that runs in minutes without a
   * GPU), or plainly what it cannot show at that size: printed by `gpugrad list`, `--help` and the report.
   */
  quickShows: string;
  /** datasets it needs (`--data-dir` applies to them) */
  data: readonly ('mnist' | 'cifar10' | 'functions')[];
  presets: Record<Preset, C>;
  /** which config keys `--epochs`, `--lr` and `--batch-size` set; a flag not listed is rejected for this experiment */
  flags: { epochs?: keyof C & string; lr?: keyof C & string; batchSize?: keyof C & string; oneByOne?: keyof C & string };
  run(ctx: RunContext<C>): Promise<void>;
  /** The figures, computed from the results alone (so a killed run and `gpugrad report` can draw them too). */
  figures(results: Results): Figure[];
  /** Sentences for the report computed from the results (what the run showed), e.g. the ranking of the models. */
  summarize?(results: Results): string[];
}

/** A chart: a Vega-Lite spec plus what the report says about it. */
export interface Figure {
  /** file stem: `<name>.svg`, `<name>.png` */
  name: string;
  title: string;
  /** which definition produced it, per docs/protocol.md: e.g. 'task', 'original’s variant', 'task and original’s variant' */
  definition: string;
  caption?: string;
  spec: Record<string, unknown>;
}

/** The results.json of a run. */
export interface Results {
  format: 1;
  experiment: string;
  section: string;
  title: string;
  status: 'running' | 'finished' | 'failed';
  preset: Preset;
  config: Record<string, unknown>;
  seed: number;
  device: string;
  adapter: string;
  library: { name: string; version: string };
  node: string;
  startedAt: string;
  updatedAt: string;
  /** seconds of work summed over every (resumed) attempt */
  wallTimeS: number;
  attempts: number;
  series: Record<string, Row[]>;
  final: Record<string, Value>;
  notes: string[];
  /** resumable pieces of work: how far each got (see RunContext.unit) */
  units: Record<string, UnitRecord>;
  /** how much of `series` and `final` the last checkpoint covers: a resume cuts back to it */
  savepoint: { rows: Record<string, number>; finalKeys: string[] };
  error?: string;
}

export interface UnitRecord {
  epochsDone: number;
  finished: boolean;
  /** the checkpoint file, relative to the run folder */
  checkpoint?: string;
}

/** What a checkpoint stores: tensors (read back from the device), host arrays, and small JSON. */
export interface Checkpoint {
  tensors?: Record<string, Tensor>;
  /** host data that need no device (e.g. parameter snapshots kept for a PCA) */
  arrays?: Record<string, Float32Array>;
  json?: unknown;
}
export interface Restored {
  /** the saved tensors, on the current device (the caller owns them) */
  tensors: Record<string, Tensor>;
  arrays: Record<string, Float32Array>;
  json: unknown;
}

export interface Progress {
  /** sets the count done (and a short status such as the current loss) */
  update(done: number, status?: string): void;
  /**
   * A line that stays in the log (stdout), with the time so far appended: one per epoch or block of iterations, its
   * metrics named, e.g. `epoch 3/10  CNN-A  loss 0.132  acc 96.0 %  test 97.0 %`.
   */
  line(text: string): void;
  stop(): void;
}

/**
 * A resumable piece of work (one model's training, one of 100 trainings). A fresh run starts every unit at epoch 0;
 * `--resume` skips finished units and restarts the others from their last finished epoch, with the checkpoint saved
 * there. "Epoch" is whatever the experiment checkpoints at: an epoch, or a block of iterations.
 */
export interface Unit {
  readonly name: string;
  /** finished in an earlier attempt: skip it (its rows and final numbers are already in the results) */
  readonly finished: boolean;
  /** epochs finished in earlier attempts; train from here */
  readonly epochsDone: number;
  /** the checkpoint saved with the last finished epoch (or at finish), or null */
  restore(): Promise<Restored | null>;
  /** records that `epochsDone` epochs are finished, with the state to continue from */
  epochDone(epochsDone: number, state?: Checkpoint): Promise<void>;
  /** records the unit as finished; `state` stays readable through restore() (e.g. snapshots later units need) */
  finish(state?: Checkpoint): Promise<void>;
}

export interface RunContext<C> {
  readonly config: C;
  readonly seed: number;
  readonly preset: Preset;
  readonly dataDir: string | undefined;
  /** A generator seeded from the run's seed and the labels: the same labels give the same numbers after a resume. */
  rng(...labels: (string | number)[]): Generator;
  /** A 32-bit seed derived from the run's seed and the labels. */
  seedFor(...labels: (string | number)[]): number;
  /** Appends a row to a named series (saved with the next checkpoint, and every few seconds). */
  log(series: string, row: Row): void;
  /** The rows of a series logged so far, earlier attempts' included (after --resume). */
  series(name: string): readonly Row[];
  /** Sets final numbers (flat key → value); the report compares them with the original’s. */
  final(values: Record<string, Value>): void;
  /** A sentence for the report (what the run saw, a caveat). */
  note(text: string): void;
  /** A progress bar on stderr when it is a terminal, and lines on stdout (see src/cli/progress.ts). */
  progress(label: string, total: number): Progress;
  unit(name: string): Unit;
  /** Writes results.json now. */
  flush(): Promise<void>;
}
