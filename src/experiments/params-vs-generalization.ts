/**
 * 3-2 Number of parameters vs generalisation: ten MNIST MLPs 784-h1-h2-10 (3 270 … 337 674 parameters) trained the
 * same way; afterwards loss and accuracy over the whole training and test sets. docs/protocol.md 3-2.
 */
import { int, num, pct } from '../run/format.js';
import * as g from '../index.js';
import { line, melt, percent } from '../run/charts.js';
import { evaluate, loadMnist, trainUnit } from './classifiers.js';
import { mnistMlp } from './models.js';
import type { Experiment, Results } from '../run/types.js';

interface Config { models: [number, number][]; epochs: number; lr: number; batchSize: number; trainSamples?: number; testSamples?: number }

const ALL: [number, number][] = [[4, 8], [8, 16], [16, 32], [32, 64], [64, 128], [100, 200], [128, 256], [200, 300], [256, 400], [256, 512]];
const DEFINITION = 'task (protocol 3-2: one Adam per model for all epochs; loss and accuracy over the full sets in eval mode)';

const experiment: Experiment<Config> = {
  name: 'params-vs-generalization',
  section: '3-2',
  title: 'Number of parameters vs generalisation',
  description: 'ten MNIST MLPs from 3 270 to 337 674 parameters; train/test loss and accuracy against the parameter count',
  quickShows: 'test accuracy rising with the number of parameters, from ~22 % to ~88 % (3 epochs on 10 000 images: the small models are still learning, so the rise is steeper than at the full preset)',
  data: ['mnist'],
  presets: {
    full: { models: ALL, epochs: 10, lr: 1e-4, batchSize: 64 },
    quick: { models: ALL, epochs: 3, lr: 1e-4, batchSize: 64, trainSamples: 10000, testSamples: 2000 },
    test: { models: [[4, 8], [16, 32]], epochs: 1, lr: 1e-4, batchSize: 64, trainSamples: 128, testSamples: 64 },
  },
  flags: { epochs: 'epochs', lr: 'lr', batchSize: 'batchSize' },

  async run(ctx) {
    const c = ctx.config;
    const { train, test } = await loadMnist(ctx, c.trainSamples, c.testSamples);
    for (const [h1, h2] of c.models) {
      const name = `${h1}-${h2}`;
      if (ctx.unit(name).finished) continue;
      const model = mnistMlp([h1, h2], ctx.rng(name, 'init'));
      const params = model.numParameters();
      const opt = new g.Adam(model.parameters(), { lr: c.lr });
      const unit = await trainUnit(ctx, name, model, opt, train, {
        epochs: c.epochs, batchSize: c.batchSize, label: `MLP 784-${h1}-${h2}-10`,
        afterEpoch: (epoch, s) => ctx.log('epochs', { model: name, params, epoch, trainLoss: s.loss, trainAcc: s.acc }),
      });
      const tr = await evaluate(model, train);
      const te = await evaluate(model, test);
      ctx.log('models', { model: name, params, trainLoss: tr.loss, trainAcc: tr.acc, testLoss: te.loss, testAcc: te.acc });
      ctx.final({ [`${name}.params`]: params, [`${name}.testAcc`]: te.acc, [`${name}.trainAcc`]: tr.acc, [`${name}.testLoss`]: te.loss });
      await unit!.finish();
      model.dispose();
      opt.dispose();
    }
    train.release();
    test.release();
  },

  figures(r) {
    const rows = r.series.models ?? [];
    const long = (cols: Record<string, string>) => melt(percent(rows, ['trainAcc', 'testAcc']), ['model', 'params'], cols, 'split');
    const x = { field: 'params', title: 'number of parameters', log: true };
    const split = { field: 'split', title: 'set', sort: ['train', 'test'], colors: ['#4c78a8', '#f58518'] };
    const chart = (cols: Record<string, string>, title: string, log: boolean) =>
      line(long(cols), { x, y: { field: 'value', title, log, ...(log ? {} : { domain: [0, 100] as [number, number] }) }, color: split, points: true });
    return [
      {
        name: 'loss-vs-params', title: 'Loss vs number of parameters (MNIST MLPs)', definition: DEFINITION,
        caption: 'Mean cross-entropy over the whole training and test sets after training.',
        spec: chart({ trainLoss: 'train', testLoss: 'test' }, 'loss (mean cross-entropy)', true),
      },
      {
        name: 'accuracy-vs-params', title: 'Accuracy vs number of parameters (MNIST MLPs)', definition: DEFINITION,
        caption: 'Accuracy over the whole training and test sets after training.',
        spec: chart({ trainAcc: 'train', testAcc: 'test' }, 'accuracy (%)', false),
      },
      {
        name: 'training-curves', title: 'Training loss per epoch, each model', definition: DEFINITION,
        caption: 'Running mean of the training loss over each epoch.',
        spec: line(r.series.epochs ?? [], { x: { field: 'epoch', title: 'epoch', integer: true }, y: { field: 'trainLoss', title: 'train loss', log: true }, color: { field: 'model', title: 'h1-h2', sort: ALL.map(([a, b]) => `${a}-${b}`) }, points: true }),
      },
    ];
  },

  summarize(r: Results) {
    const rows = [...(r.series.models ?? [])].sort((a, b) => Number(a.params) - Number(b.params));
    if (rows.length < 2) return [];
    const first = rows[0], last = rows[rows.length - 1];
    const gap = (x: typeof first) => Number(x.trainAcc) - Number(x.testAcc);
    const pc = (v: unknown) => pct(Number(v));
    const trend = Number(last.testAcc) > Number(first.testAcc) ? 'rises' : 'does not rise';
    const widens = gap(last) > gap(first);
    return [
      `Test accuracy ${trend} from ${pc(first.testAcc)} (${int(Number(first.params))} parameters) to ${pc(last.testAcc)} (${int(Number(last.params))}).`,
      `The train–test accuracy gap goes from ${num(100 * gap(first), 2)} to ${num(100 * gap(last), 2)} points${widens ? ': the larger models fit the training set further ahead of the test set' : ''}.`,
    ];
  },
};

export default experiment;
