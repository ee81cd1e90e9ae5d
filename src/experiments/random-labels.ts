/**
 * 3-1 Can the network fit random labels? CNN-A of 1-2 trained on the MNIST training images with labels drawn
 * uniformly from 0..9 (seeded); the test set keeps its true labels. Train and test cross-entropy every epoch. The original
 * stopped at 50 epochs with the train loss still falling and concluded it cannot fit them; we train longer so the
 * memorisation shows. Beside the task (one Adam for all epochs) the original's variant: a new Adam every epoch, as its
 * code did, for its 50 epochs — the same initialisation, labels and shuffles, so only the optimiser differs — which
 * is what its numbers are compared with. docs/protocol.md 3-1.
 */
import * as g from '../index.js';
import { line } from '../run/charts.js';
import { num, pct } from '../run/format.js';
import { ADAM_LINES, adamVariantStyle, loadMnist, lrNote, trainWithTestCurve } from './classifiers.js';
import { cnnA } from './models.js';
import type { Experiment, Results, Row } from '../run/types.js';

interface Config {
  epochs: number; lr: number; batchSize: number;
  /** epochs of the original's variant (a new Adam every epoch): the original's 50, or `epochs` where that is fewer */
  variantEpochs: number;
  trainSamples?: number; testSamples?: number;
}

const DEFINITION = 'task (protocol 3-1: one Adam for all epochs; mean cross-entropy; train = running mean over each epoch on the random labels, test = true labels, eval mode)';
const VARIANT = 'the original’s variant: new Adam every epoch (moments and step count reset; the same initialisation, labels, shuffles, lr and batch), for the original’s 50 epochs';

/** The final numbers of one training's per-epoch rows, under `prefix` ('' for the task, 'seed.' for the variant). */
function curveFinals(rows: readonly Row[], prefix: string): Record<string, number | null> {
  const at = (e: number) => rows.find((r) => r.epoch === e);
  const last = rows.at(-1);
  const v = (x: unknown) => (typeof x === 'number' ? x : null);
  return Object.fromEntries(Object.entries({
    'train.loss.first': v(at(1)?.trainLoss), 'train.loss.e50': v(at(50)?.trainLoss), 'test.loss.e50': v(at(50)?.testLoss),
    'train.loss.final': v(last?.trainLoss), 'train.acc.final': v(last?.trainAcc),
    'test.loss.final': v(last?.testLoss), 'test.acc.final': v(last?.testAcc), epochs: v(last?.epoch) ?? 0,
  }).map(([k, x]) => [prefix + k, x]));
}

const experiment: Experiment<Config> = {
  name: 'random-labels',
  section: '3-1',
  title: 'Can the network fit random labels?',
  description: 'CNN-A on MNIST with random training labels; train and test cross-entropy per epoch, long enough to memorise',
  quickShows: 'memorisation of random labels: the train loss falling far below the test loss (which rises) and the train accuracy far above chance (512 images, 200 epochs); ' +
    'the original’s variant (a new Adam every epoch, for its 50 epochs) memorising more slowly: its train loss at epoch 50 above the task’s',
  data: ['mnist'],
  presets: {
    // the original’s 50 epochs end mid-memorisation; 150 show it finishing (or pass --epochs / --lr)
    full: { epochs: 150, lr: 1e-4, batchSize: 64, variantEpochs: 50 },
    // a small set memorises in few steps, at the protocol's lr and batch (only the sizes change): 120 epochs leave the
    // train loss at 1.51 (accuracy 51 %), 200 at 0.63 (83 %), in ~2.5 min on the wasm device of a loaded 2-core machine
    quick: { epochs: 200, lr: 1e-4, batchSize: 64, variantEpochs: 50, trainSamples: 512, testSamples: 500 },
    // two epochs: the second is the first the variant's reset changes
    test: { epochs: 2, lr: 1e-3, batchSize: 8, variantEpochs: 2, trainSamples: 12, testSamples: 8 },
  },
  flags: { epochs: 'epochs', lr: 'lr', batchSize: 'batchSize' },

  async run(ctx) {
    const c = ctx.config;
    const { train, test } = await loadMnist(ctx, c.trainSamples, c.testSamples);
    if (c.lr !== experiment.presets.full.lr) ctx.note(lrNote(c.lr, experiment.presets.full.lr, ctx.preset));
    const random = g.randomLabels(train, { seed: ctx.seedFor('labels') });
    const agree = random.labels.reduce((n, l, i) => n + (l === train.labels[i] ? 1 : 0), 0);
    ctx.final({ trainSamples: random.length, 'labels.agreeWithTrue': agree / random.length });
    // the task, then the original's variant: each its own resumable unit, from the same initial weights and shuffles
    const trainings = [
      { unit: 'cnnA', series: 'epochs', epochs: c.epochs, newAdamEachEpoch: false, label: 'CNN-A, random labels' },
      { unit: 'cnnA.seed', series: 'seed.epochs', epochs: Math.min(c.variantEpochs, c.epochs), newAdamEachEpoch: true, label: 'CNN-A, random labels, new Adam every epoch (original’s variant)' },
    ];
    for (const t of trainings) {
      if (ctx.unit(t.unit).finished) continue;
      const model = cnnA(ctx.rng('cnnA', 'init'));
      await trainWithTestCurve(ctx, t.unit, model, random, test, {
        epochs: t.epochs, batchSize: c.batchSize, lr: c.lr, label: t.label, series: t.series, newAdamEachEpoch: t.newAdamEachEpoch, shuffleAs: 'cnnA',
      });
      model.dispose();
    }
    random.release();
    train.release();
    test.release();
    ctx.final({ ...curveFinals(ctx.series('epochs'), ''), ...curveFinals(ctx.series('seed.epochs'), 'seed.') });
  },

  figures(r) {
    const curve = (rows: readonly Row[], definition: string): Row[] => rows.flatMap((x) => [
      { epoch: x.epoch, definition, split: 'train (random labels)', loss: x.trainLoss, acc: 100 * Number(x.trainAcc) },
      { epoch: x.epoch, definition, split: 'test (true labels)', loss: x.testLoss, acc: 100 * Number(x.testAcc) },
    ]);
    const task = curve(r.series.epochs ?? [], ADAM_LINES.task), variant = curve(r.series['seed.epochs'] ?? [], ADAM_LINES.variant);
    const rows = [...task, ...variant];
    const split = { field: 'split', title: 'set', sort: ['train (random labels)', 'test (true labels)'], colors: ['#4c78a8', '#f58518'] };
    const both = variant.length > 0;
    const { dash, definition } = adamVariantStyle(both, DEFINITION, VARIANT);
    const epoch = { field: 'epoch', title: 'epoch', integer: true, tight: true };
    const points = task.length < 200 && variant.length < 200;
    return [
      {
        name: 'random-labels-loss', title: 'CNN-A on MNIST with random training labels: loss per epoch', definition,
        caption: `ln 10 = ${Math.LN10.toFixed(3)} is the loss of guessing uniformly. Train loss falling below it means the network memorises the random labels.` +
          (both ? ' Dashed: the same network trained as the original’s code did, with a new Adam every epoch.' : ''),
        spec: line(rows, { x: epoch, y: { field: 'loss', title: 'loss (mean cross-entropy)', log: true }, color: split, ...dash, points }),
      },
      {
        name: 'random-labels-accuracy', title: 'Accuracy on the random training labels and on the true test labels', definition,
        caption: 'Chance is 10 %. Training accuracy well above it is memorisation: the test accuracy stays at chance.',
        spec: line(rows, { x: epoch, y: { field: 'acc', title: 'accuracy (%)', domain: [0, 100] }, color: split, ...dash, points }),
      },
    ];
  },

  summarize(r: Results) {
    const rows = r.series.epochs ?? [];
    if (!rows.length) return [];
    const first = rows[0], last = rows.at(-1)!;
    const memorised = Number(last.trainLoss) < 0.5 * Math.LN10;
    const out = [
      `Task (one Adam for all epochs): train loss on random labels ${num(Number(first.trainLoss), 4)} (epoch 1) → ${num(Number(last.trainLoss), 4)} (epoch ${last.epoch}); ` +
        `train accuracy ${pct(Number(last.trainAcc))} (chance 10 %). Test loss (true labels) ${num(Number(first.testLoss), 4)} → ${num(Number(last.testLoss), 4)}, ` +
        `test accuracy ${pct(Number(last.testAcc))}.`,
      memorised
        ? 'The network memorises the random labels: the train loss falls far below ln 10 while the test loss rises. The original’s "cannot fit random labels" was a run stopped early.'
        : 'The train loss has not yet fallen far below ln 10 = 2.303: memorisation is under way but unfinished at this length (more epochs or a higher lr finish it).',
    ];
    const seed = r.series['seed.epochs'] ?? [];
    const end = seed.at(-1);
    if (end) {
      out.push(`The original’s variant (a new Adam every epoch, as its code trained; the same initialisation, labels and batches), ${end.epoch} epoch${end.epoch === 1 ? '' : 's'}: ` +
        `train loss ${num(Number(seed[0].trainLoss), 4)} → ${num(Number(end.trainLoss), 4)}, test loss ${num(Number(seed[0].testLoss), 4)} → ${num(Number(end.testLoss), 4)}, ` +
        `train accuracy ${pct(Number(end.trainAcc))}.`);
      const same = rows.find((x) => x.epoch === end.epoch);
      if (same && Number(end.epoch) > 1) {
        const d = Number(end.trainLoss) - Number(same.trainLoss);
        out.push(`At epoch ${end.epoch} the variant's train loss is ${num(Number(end.trainLoss), 4)} against the task's ${num(Number(same.trainLoss), 4)}: ` +
          (Math.abs(d) < 0.02 ? 'resetting Adam every epoch makes little difference to memorisation here.'
            : `resetting Adam every epoch ${d > 0 ? 'slows' : 'speeds up'} memorisation here (by ${num(Math.abs(d), 2)} in cross-entropy).`));
      }
    }
    return out;
  },
};

export default experiment;
