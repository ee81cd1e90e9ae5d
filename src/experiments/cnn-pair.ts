/**
 * What the two experiments of 1-2 (mnist-cnns, cifar-cnns) share: a pair of CNNs trained the same way, each its own
 * resumable unit with a test curve per epoch (the one with dropout also measured with dropout on, as the original
 * did), the two figures (loss and test accuracy per epoch) and the summary. Each experiment supplies its data, its
 * two models and their labels.
 */
import * as g from '../index.js';
import type { ImageDataset } from '../index.js';
import { num, pct } from '../run/format.js';
import { line } from '../run/charts.js';
import { lrNote, trainWithTestCurve } from './classifiers.js';
import type { Results, Row, RunContext } from '../run/types.js';

/** The settings of both 1-2 experiments. */
export interface CnnPairConfig { epochs: number; lr: number; batchSize: number; trainSamples?: number; testSamples?: number }

const LOSS_DEF = 'task (protocol 1-2: mean cross-entropy; train = running mean over each epoch\'s batches, test = the whole test set in eval mode)';
/** The accuracy figure's definition, naming the model with dropout (CNN-B on MNIST, CNN-1 on CIFAR-10). */
const accDef = (dropoutModel: string) => `task (eval mode) and original’s variant (${dropoutModel} measured with dropout on, as the original did)`;

/**
 * The training of 1-2: each model is its own resumable unit with a test curve per epoch (the one with dropout,
 * `dropoutModel`, also measured with dropout on, as the original did), then each model's last epoch becomes final
 * numbers. `build` makes a model from its init generator and the dropout generator (reseeded every epoch
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
 * The two figures of 1-2: loss per epoch (train solid, test dashed) and test accuracy per epoch, with the original’s
 * variant (dropout on) and, at the full preset, the original report's own curve where it has one.
 */
export function epochFigures(r: Results, models: readonly string[], label: Record<string, string>, seedLabel: string,
  seedCurve: number[] | null, seedCurveModel: string, dataset: string) {
  const rows = r.series.epochs ?? [];
  const loss: Row[] = rows.flatMap((x) => [
    { epoch: x.epoch, model: label[String(x.model)], split: 'train', loss: x.trainLoss },
    { epoch: x.epoch, model: label[String(x.model)], split: 'test', loss: x.testLoss },
  ]);
  const acc: Row[] = rows.map((x) => ({ epoch: x.epoch, series: label[String(x.model)], acc: 100 * Number(x.testAcc) }));
  const dropoutName = label[String(rows.find((x) => x.testAccDropoutOn !== undefined)?.model)]?.split(' (')[0] ?? 'the model with dropout';
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
      name: 'accuracy', title: `${dataset}: test accuracy per epoch`, definition: accDef(dropoutName),
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
