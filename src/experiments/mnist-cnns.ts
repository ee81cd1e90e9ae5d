/**
 * 1-2 Deep vs shallow on MNIST: CNN-A (371 581 parameters, no dropout) and CNN-B (228 010, with dropout) trained the
 * same way (cross-entropy, Adam lr 1e-4, batch 64, 10 epochs); loss and test accuracy every epoch. Accuracy is
 * measured in eval mode (the task); CNN-B is also measured with dropout on, as the original did (it never called eval()).
 * docs/protocol.md 1-2.
 */
import * as g from '../index.js';
import { int, num, pct } from '../run/format.js';
import { line } from '../run/charts.js';
import { loadMnist, lrNote, trainWithTestCurve } from './classifiers.js';
import { cnnA, cnnB } from './models.js';
import type { ImageDataset } from '../index.js';
import type { Experiment, Results, Row, RunContext } from '../run/types.js';

/** The settings of both 1-2 experiments (this one and cifar-cnns). */
export interface CnnPairConfig { epochs: number; lr: number; batchSize: number; trainSamples?: number; testSamples?: number }
/** cnnBTrainSamples: CNN-B's own training subset where it differs from CNN-A's (quick: CNN-B is the slow one). */
type Config = CnnPairConfig & { cnnBTrainSamples?: number };

const MODELS = ['cnnA', 'cnnB'] as const;
const LABEL: Record<string, string> = { cnnA: 'CNN-A (371 581 params)', cnnB: 'CNN-B (228 010 params, dropout)' };
const SEED_B = 'CNN-B, dropout on (original’s variant)';
const SEED_A_CURVE = [0.9093, 0.9395, 0.9605, 0.9710, 0.9749, 0.9788, 0.9781, 0.9786, 0.9841, 0.9837];
const LOSS_DEF = 'task (protocol 1-2: mean cross-entropy; train = running mean over each epoch\'s batches, test = the whole test set in eval mode)';
const ACC_DEF = 'task (eval mode) and original’s variant (CNN-B measured with dropout on, as the original did)';

const experiment: Experiment<Config> = {
  name: 'mnist-cnns',
  section: '1-2',
  title: 'Deep vs shallow: train on MNIST (CNN-A vs CNN-B)',
  description: 'two MNIST CNNs (371 581 and 228 010 parameters), Adam lr 1e-4, batch 64; loss and test accuracy per epoch',
  quickShows: `CNN-A at ≥ 90 % test accuracy after two epochs over the whole training set (the original: 90.93 % after one, 93.95 % after two); CNN-B, ~10× costlier per image, learning far above chance from two passes over 8 000 images`,
  data: ['mnist'],
  presets: {
    full: { epochs: 10, lr: 1e-4, batchSize: 64 },
    // only sizes change (never the optimiser, lr or batch): CNN-A's first epoch ends near 90 % (88.8 % on these 2 000
    // test images, seed 0), its second safely above; CNN-B costs ~10× CNN-A per image on the wasm device (~0.6 s per
    // batch of 64 on 2 loaded cores), so it sees fewer images
    quick: { epochs: 2, lr: 1e-4, batchSize: 64, testSamples: 2000, cnnBTrainSamples: 8000 },
    test: { epochs: 1, lr: 1e-3, batchSize: 8, trainSamples: 12, testSamples: 8 },
  },
  flags: { epochs: 'epochs', lr: 'lr', batchSize: 'batchSize' },

  async run(ctx) {
    const c = ctx.config;
    const build = (name: string, init: g.Generator, dropout: g.Generator) => (name === 'cnnA' ? cnnA(init) : cnnB(init, dropout));
    const nB = c.cnnBTrainSamples ?? c.trainSamples;
    // one training set for both, or (where CNN-B gets fewer images) one per model; either way each model is its own unit
    for (const [models, n] of nB === c.trainSamples ? [[MODELS, nB] as const] : [[['cnnA'], c.trainSamples] as const, [['cnnB'], nB] as const]) {
      await trainCnnPair(ctx, await loadMnist(ctx, n, c.testSamples), experiment.presets.full.lr, models, LABEL, build, 'cnnB', 'CNN-B');
    }
    if (nB !== c.trainSamples) {
      ctx.note(`CNN-A trained on ${int(c.trainSamples ?? 60000)} training images, CNN-B on the first ${int(nB ?? 60000)} of them ` +
        `(the ${ctx.preset} preset: CNN-B costs about 10× CNN-A per image on a CPU); their accuracies are not a like-for-like comparison.`);
    }
  },

  figures: (r) => epochFigures(r, MODELS, LABEL, SEED_B, r.preset === 'full' ? SEED_A_CURVE : null, 'cnnA', 'MNIST'),

  summarize: (r) => epochSummary(r, MODELS, LABEL),
};

/**
 * The training of 1-2 (shared with cifar-cnns): each model is its own resumable unit with a test curve per epoch (the
 * one with dropout, `dropoutModel`, also measured with dropout on, as the original did), then each model's last epoch
 * becomes final numbers. `build` makes a model from its init generator and the dropout generator (reseeded every epoch
 * from the run's seed).
 */
export async function trainCnnPair(ctx: RunContext<CnnPairConfig>, { train, test }: { train: ImageDataset; test: ImageDataset },
  protocolLr: number, models: readonly string[], label: Record<string, string>, build: (name: string, init: g.Generator, dropout: g.Generator) => g.Sequential,
  dropoutModel: string, dropoutLabel: string): Promise<void> {
  const c = ctx.config;
  if (c.lr !== protocolLr) ctx.note(lrNote(c.lr, protocolLr, ctx.preset));
  for (const name of models) {
    if (ctx.unit(name).finished) continue;
    const dropout = new g.Generator(0);
    const model = build(name, ctx.rng(name, 'init'), dropout);
    ctx.final({ [`${name}.params`]: model.numParameters() });
    await trainWithTestCurve(ctx, name, model, train, test, {
      epochs: c.epochs, batchSize: c.batchSize, lr: c.lr, dropout, seedDropoutOn: name === dropoutModel, label: label[name].split(' (')[0],
    });
    model.dispose();
  }
  train.release();
  test.release();
  for (const name of models) {
    const last = ctx.series('epochs').filter((r) => r.model === name).at(-1);
    if (!last) continue;
    ctx.final({ [`${name}.testAcc`]: last.testAcc, [`${name}.testLoss`]: last.testLoss, [`${name}.trainLoss`]: last.trainLoss });
    if (last.testAccDropoutOn !== undefined) ctx.final({ [`${name}.testAccDropoutOn`]: last.testAccDropoutOn });
  }
  ctx.note(`${dropoutLabel}'s accuracy is measured in eval mode (dropout off); the original measured it with dropout on, shown as the original’s variant.`);
}

/**
 * The two figures of 1-2 (shared with cifar-cnns): loss per epoch (train solid, test dashed) and test accuracy per
 * epoch, with the original’s variant (dropout on) and, at the full preset, the original report's own curve where it has one.
 */
export function epochFigures(r: Results, models: readonly string[], label: Record<string, string>, seedLabel: string,
  seedCurve: number[] | null, seedCurveModel: string, dataset: string) {
  const rows = r.series.epochs ?? [];
  const loss: Row[] = rows.flatMap((x) => [
    { epoch: x.epoch, model: label[String(x.model)], split: 'train', loss: x.trainLoss },
    { epoch: x.epoch, model: label[String(x.model)], split: 'test', loss: x.testLoss },
  ]);
  const acc: Row[] = rows.map((x) => ({ epoch: x.epoch, series: label[String(x.model)], acc: 100 * Number(x.testAcc) }));
  for (const x of rows) if (x.testAccDropoutOn !== undefined) acc.push({ epoch: x.epoch, series: seedLabel, acc: 100 * Number(x.testAccDropoutOn) });
  const seedRef = `${label[seedCurveModel]}: original report`;
  if (seedCurve) seedCurve.forEach((a, i) => acc.push({ epoch: i + 1, series: seedRef, acc: 100 * a }));
  const names = models.map((m) => label[m]);
  // the legend lists only the series drawn (the original’s curve is drawn at the full preset only)
  const present = ([[names[0], '#4c78a8'], [names[1], '#f58518'], [seedLabel, '#e45756'], [seedRef, '#9d9d9d']] as const)
    .filter(([n]) => acc.some((x) => x.series === n));
  const epoch = { field: 'epoch', title: 'epoch', integer: true };
  return [
    {
      name: 'loss', title: `${dataset}: loss per epoch`, definition: LOSS_DEF,
      caption: 'Solid: training loss (running mean over the epoch, in train mode); dashed: test loss (eval mode).',
      spec: line(loss, {
        x: epoch, y: { field: 'loss', title: 'loss (mean cross-entropy)', log: true, minDecades: 1 }, points: rows.length <= 2,
        color: { field: 'model', title: 'model', sort: names, colors: ['#4c78a8', '#f58518'] },
        dash: { field: 'split', title: 'set', sort: ['train', 'test'] },
      }),
    },
    {
      name: 'accuracy', title: `${dataset}: test accuracy per epoch`, definition: ACC_DEF,
      caption: `Eval mode unless marked. "${seedLabel}" repeats the original’s measurement with dropout left on.` +
        (seedCurve ? ` "${seedRef}" is the original report's printed curve.` : ''),
      spec: line(acc, {
        x: epoch, y: { field: 'acc', title: 'test accuracy (%)', baseline: 10, baselineUntil: 90 }, points: true,
        color: { field: 'series', title: 'model', sort: present.map(([n]) => n), colors: present.map(([, c]) => c) },
      }),
    },
  ];
}

export function epochSummary(r: Results, models: readonly string[], label: Record<string, string>): string[] {
  const pc = (v: unknown) => pct(Number(v), 2);
  const out: string[] = [];
  const lasts = models.map((m) => (r.series.epochs ?? []).filter((x) => x.model === m).at(-1)).filter((x) => x !== undefined);
  for (const x of lasts) {
    out.push(`${label[String(x.model)]}: after ${x.epoch} epoch${x.epoch === 1 ? '' : 's'} test accuracy ${pc(x.testAcc)} (eval mode)` +
      (x.testAccDropoutOn !== undefined ? `, ${pc(x.testAccDropoutOn)} with dropout on (the original’s way)` : '') +
      `; train loss ${num(Number(x.trainLoss))}, test loss ${num(Number(x.testLoss))}.`);
  }
  if (lasts.length === 2) {
    const [a, b] = lasts;
    const best = Number(a.testAcc) >= Number(b.testAcc) ? a : b;
    out.push(`Higher test accuracy: ${label[String(best.model)]}, by ${num(100 * Math.abs(Number(a.testAcc) - Number(b.testAcc)), 2)} points.`);
  }
  return out;
}

export default experiment;
