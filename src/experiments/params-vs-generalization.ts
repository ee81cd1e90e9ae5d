/**
 * 3-2 Number of parameters vs generalisation: ten MNIST MLPs 784-h1-h2-10 (3 270 … 337 674 parameters) trained the
 * same way; afterwards loss and accuracy over the whole training and test sets. Each model is trained twice from the
 * same initialisation and shuffles: the task (one Adam for all epochs), and the original's variant (a new Adam every
 * epoch, as its code did), which is what its numbers are compared with. docs/protocol.md 3-2.
 */
import { int, num, pct } from '../run/format.js';
import * as g from '../index.js';
import { line, melt, percent } from '../run/charts.js';
import { ADAM_LINES, adamVariantStyle, evaluate, loadMnist, trainUnit } from './classifiers.js';
import { mnistMlp } from './models.js';
import type { Experiment, Results, Row } from '../run/types.js';

interface Config { models: [number, number][]; epochs: number; lr: number; batchSize: number; trainSamples?: number; testSamples?: number }

const ALL: [number, number][] = [[4, 8], [8, 16], [16, 32], [32, 64], [64, 128], [100, 200], [128, 256], [200, 300], [256, 400], [256, 512]];
const DEFINITION = 'task (protocol 3-2: one Adam per model for all epochs; loss and accuracy over the full sets in eval mode)';
const VARIANT = 'the original’s variant: new Adam every epoch (moments and step count reset; the same initialisation, shuffles, lr and batch)';

/** The two trainings of each model: where their rows and final numbers go, and how their optimiser is kept. */
const TRAININGS = [
  { suffix: '', prefix: '', newAdamEachEpoch: false, label: '' },
  { suffix: '.seed', prefix: 'seed.', newAdamEachEpoch: true, label: ', new Adam every epoch (original’s variant)' },
] as const;

const experiment: Experiment<Config> = {
  name: 'params-vs-generalization',
  section: '3-2',
  title: 'Number of parameters vs generalisation',
  description: 'ten MNIST MLPs from 3 270 to 337 674 parameters; train/test loss and accuracy against the parameter count',
  quickShows: 'test accuracy rising with the number of parameters, from ~22 % to ~88 % (3 epochs on 10 000 images: the small models are still learning, so the rise is steeper than at the full preset); ' +
    'the original’s variant (a new Adam every epoch) learning more slowly: its test accuracy below the task’s for every model',
  data: ['mnist'],
  presets: {
    full: { models: ALL, epochs: 10, lr: 1e-4, batchSize: 64 },
    quick: { models: ALL, epochs: 3, lr: 1e-4, batchSize: 64, trainSamples: 10000, testSamples: 2000 },
    // two epochs: the second is the first the variant's reset changes
    test: { models: [[4, 8], [16, 32]], epochs: 2, lr: 1e-4, batchSize: 64, trainSamples: 128, testSamples: 64 },
  },
  flags: { epochs: 'epochs', lr: 'lr', batchSize: 'batchSize' },

  async run(ctx) {
    const c = ctx.config;
    const { train, test } = await loadMnist(ctx, c.trainSamples, c.testSamples);
    for (const [h1, h2] of c.models) {
      const name = `${h1}-${h2}`;
      for (const t of TRAININGS) {
        // the task's rows go to `epochs`/`models`, the variant's to `seed.epochs`/`seed.models`
        if (ctx.unit(name + t.suffix).finished) continue;
        const model = mnistMlp([h1, h2], ctx.rng(name, 'init'));
        const params = model.numParameters();
        const opt = new g.Adam(model.parameters(), { lr: c.lr });
        const unit = await trainUnit(ctx, name + t.suffix, model, opt, train, {
          epochs: c.epochs, batchSize: c.batchSize, label: `MLP 784-${h1}-${h2}-10${t.label}`, newAdamEachEpoch: t.newAdamEachEpoch, shuffleAs: name,
          afterEpoch: (epoch, s) => ctx.log(`${t.prefix}epochs`, { model: name, params, epoch, trainLoss: s.loss, trainAcc: s.acc }),
        });
        const tr = await evaluate(model, train);
        const te = await evaluate(model, test);
        ctx.log(`${t.prefix}models`, { model: name, params, trainLoss: tr.loss, trainAcc: tr.acc, testLoss: te.loss, testAcc: te.acc });
        const key = `${t.prefix}${name}`;
        ctx.final({ [`${name}.params`]: params, [`${key}.testAcc`]: te.acc, [`${key}.trainAcc`]: tr.acc, [`${key}.testLoss`]: te.loss });
        await unit!.finish();
        model.dispose();
        opt.dispose();
      }
    }
    train.release();
    test.release();
  },

  figures(r) {
    const tagged = (series: string, definition: string) => (r.series[series] ?? []).map((x) => ({ ...x, definition }));
    const task = tagged('models', ADAM_LINES.task), variant = tagged('seed.models', ADAM_LINES.variant);
    const rows = [...task, ...variant];
    const both = variant.length > 0;
    const long = (cols: Record<string, string>) => melt(percent(rows, ['trainAcc', 'testAcc']), ['model', 'params', 'definition'], cols, 'split');
    const x = { field: 'params', title: 'number of parameters', log: true };
    const split = { field: 'split', title: 'set', sort: ['train', 'test'], colors: ['#4c78a8', '#f58518'] };
    const { dash, definition } = adamVariantStyle(both, DEFINITION, VARIANT);
    const chart = (cols: Record<string, string>, title: string, log: boolean) =>
      line(long(cols), { x, y: { field: 'value', title, log, ...(log ? {} : { domain: [0, 100] as [number, number] }) }, color: split, ...dash, points: true });
    const curves = [...tagged('epochs', ADAM_LINES.task), ...tagged('seed.epochs', ADAM_LINES.variant)];
    return [
      {
        name: 'loss-vs-params', title: 'Loss vs number of parameters (MNIST MLPs)', definition,
        caption: 'Mean cross-entropy over the whole training and test sets after training.',
        spec: chart({ trainLoss: 'train', testLoss: 'test' }, 'loss (mean cross-entropy)', true),
      },
      {
        name: 'accuracy-vs-params', title: 'Accuracy vs number of parameters (MNIST MLPs)', definition,
        caption: 'Accuracy over the whole training and test sets after training.' + (both ? ' Dashed: the original’s variant, the way the original report’s numbers were measured.' : ''),
        spec: chart({ trainAcc: 'train', testAcc: 'test' }, 'accuracy (%)', false),
      },
      {
        name: 'training-curves', title: 'Training loss per epoch, each model', definition,
        caption: 'Running mean of the training loss over each epoch.' + (both ? ' Dashed: a new Adam every epoch (the original’s variant).' : ''),
        spec: line(curves, {
          x: { field: 'epoch', title: 'epoch', integer: true }, y: { field: 'trainLoss', title: 'train loss', log: true },
          color: { field: 'model', title: 'h1-h2', sort: ALL.map(([a, b]) => `${a}-${b}`) }, ...dash, points: true,
        }),
      },
    ];
  },

  summarize(r: Results) {
    const out = sizeSummary(r.series.models ?? [], 'Task (one Adam for all epochs)');
    const variant = sizeSummary(r.series['seed.models'] ?? [], 'The original’s variant (a new Adam every epoch, as its code trained)');
    if (variant.length) out.push(variant[0]);
    const task = new Map((r.series.models ?? []).map((x) => [x.model, Number(x.testAcc)]));
    const diffs = (r.series['seed.models'] ?? []).filter((x) => task.has(x.model)).map((x) => ({ model: String(x.model), d: Number(x.testAcc) - task.get(x.model)! }));
    if (diffs.length) {
      const widest = diffs.reduce((a, b) => (Math.abs(b.d) > Math.abs(a.d) ? b : a));
      const lower = diffs.filter((x) => x.d < 0).length;
      out.push(`Test accuracy, variant minus task: ${diffs.map((x) => `${x.model} ${x.d >= 0 ? '+' : '−'}${num(Math.abs(100 * x.d), 2)}`).join(', ')} points; ` +
        `the variant is below the task for ${lower} of ${diffs.length} models (widest gap ${num(Math.abs(100 * widest.d), 2)} points, ${widest.model}).`);
    }
    return out;
  },
};

/** What one definition's models showed: test accuracy against the parameter count, and the train–test gap. */
function sizeSummary(models: readonly Row[], who: string): string[] {
  const rows = [...models].sort((a, b) => Number(a.params) - Number(b.params));
  if (rows.length < 2) return [];
  const first = rows[0], last = rows[rows.length - 1];
  const gap = (x: Row) => Number(x.trainAcc) - Number(x.testAcc);
  const pc = (v: unknown) => pct(Number(v));
  const trend = Number(last.testAcc) > Number(first.testAcc) ? 'rises' : 'does not rise';
  const widens = gap(last) > gap(first);
  return [
    `${who}: test accuracy ${trend} from ${pc(first.testAcc)} (${int(Number(first.params))} parameters) to ${pc(last.testAcc)} (${int(Number(last.params))}); ` +
      `the train–test accuracy gap goes from ${num(100 * gap(first), 2)} to ${num(100 * gap(last), 2)} points${widens ? ': the larger models fit the training set further ahead of the test set' : ''}.`,
  ];
}

export default experiment;
