/**
 * 3-3 part 2, sensitivity vs batch size: the 3-3 CNN (14 718 parameters) trained from a fresh init with each batch size
 * (32 … 512; Adam lr 1e-4, 10 epochs); afterwards loss and accuracy over the training and test sets, and the
 * sensitivity on a fixed evaluation set (the test set), never on the training batches:
 *   task       ‖∂L/∂X‖_F with L the mean cross-entropy over the N test images = √(Σₙ ‖∂ℓₙ/∂xₙ‖²) / N;
 *   per sample  meanₙ ‖∂ℓₙ/∂xₙ‖_F.
 * In eval mode ℓₙ depends on xₙ alone, so one backward pass of Σₙ ℓₙ per evaluation batch gives every ∂ℓₙ/∂xₙ.
 * The original’s "sensitivity" is a different quantity, computed alongside and labelled as such: the mean over the
 * parameter tensors of ‖∂L_batch/∂θ‖_F left from the last training batch. docs/protocol.md 3-3.
 */
import * as g from '../index.js';
import { num, pct } from '../run/format.js';
import { line, melt, percent, panels } from '../run/charts.js';
import { evaluate, loadMnist, lrNote, trainUnit } from './classifiers.js';
import { DeviceSum } from './readback.js';
import { flatnessCnn } from './models.js';
import type { Experiment, Results, Row } from '../run/types.js';

interface Config { batchSizes: number[]; lr: number; epochs: number; trainSamples?: number; testSamples?: number }

const TASK = 'task (protocol 3-3: ‖∂L/∂X‖_F of the mean cross-entropy over the fixed test set, and the per-sample meanₙ ‖∂ℓₙ/∂xₙ‖_F)';
const SEED = 'original’s variant (mean over parameter tensors of ‖∂L/∂θ‖_F from the last training batch: not an input sensitivity)';

/**
 * Input-gradient norms over a whole dataset in eval mode: [task ‖∂L/∂X‖_F, per-sample mean ‖∂ℓₙ/∂xₙ‖_F], summed on the
 * device over evaluation batches and read once.
 */
export async function inputSensitivity(model: g.Module, ds: g.ImageDataset, batchSize = 500): Promise<{ task: number; perSample: number }> {
  const wasTraining = model.training;
  model.eval();
  const sums = new DeviceSum([2]);
  for (const batch of new g.DataLoader(ds, { batchSize })) {
    sums.add(() => {
      // the batch's summed loss: row n of its input gradient is ∂ℓₙ/∂xₙ
      const [dx] = g.grad((x) => g.F.crossEntropy(model.forward(x), batch.y).mul(batch.y.size), [batch.x]);
      return g.noGrad(() => {
        const sq = dx.square().sum([1, 2, 3]);
        return g.stack([sq.sum(), sq.sqrt().sum()]);
      });
    });
    batch.dispose();
  }
  const [sumSq, sumNorm] = await sums.read();
  model.train(wasTraining);
  return { task: Math.sqrt(sumSq) / ds.length, perSample: sumNorm / ds.length };
}

/** The original’s number: the mean over parameter tensors of the Frobenius norm of the gradient they hold. */
async function meanParamGradNorm(params: readonly g.Tensor[]): Promise<number | null> {
  const grads = params.map((p) => p.grad).filter((t): t is g.Tensor => t !== null);
  if (!grads.length) return null;
  const norms = g.tidy(() => g.stack(grads.map((t) => t.square().sum().sqrt())));
  const v = Array.from(await norms.data());
  norms.dispose();
  return v.reduce((a, b) => a + b, 0) / v.length;
}

const experiment: Experiment<Config> = {
  name: 'sensitivity',
  section: '3-3',
  title: 'Flatness vs generalisation: sensitivity vs batch size',
  description: 'the 3-3 CNN trained with batch 32…512; loss, accuracy and input-gradient sensitivity on the test set',
  quickShows: 'the trends of the homework, test accuracy and input sensitivity both falling from batch 32 to 512 (3 epochs on 10 000 images); at this size the large batches take few steps (60 at batch 512) and stay far from trained, so the accuracy gap is far wider than at the full preset (the original: 97.5 % to 92.0 %)',
  data: ['mnist'],
  presets: {
    full: { batchSizes: [32, 64, 128, 256, 512], lr: 1e-4, epochs: 10 },
    // only sizes change; 3 epochs over 10 000 images take ~3 min on the wasm device of a loaded 2-core machine
    quick: { batchSizes: [32, 64, 128, 256, 512], lr: 1e-4, epochs: 3, trainSamples: 10000, testSamples: 1000 },
    test: { batchSizes: [4, 8], lr: 1e-3, epochs: 1, trainSamples: 12, testSamples: 8 },
  },
  flags: { epochs: 'epochs', lr: 'lr' },

  async run(ctx) {
    const c = ctx.config;
    const { train, test } = await loadMnist(ctx, c.trainSamples, c.testSamples);
    if (c.lr !== experiment.presets.full.lr) ctx.note(lrNote(c.lr, experiment.presets.full.lr, ctx.preset));
    for (const b of c.batchSizes) {
      const name = `b${b}`;
      if (ctx.unit(name).finished) continue;
      const model = flatnessCnn(ctx.rng(name, 'init'));
      const opt = new g.Adam(model.parameters(), { lr: c.lr });
      const unit = await trainUnit(ctx, name, model, opt, train, {
        epochs: c.epochs, batchSize: b, label: `CNN, batch ${b}`,
        afterEpoch: async (epoch, s) => ctx.log('epochs', {
          batchSize: b, epoch, trainLoss: s.loss, trainAcc: s.acc, seedSensitivity: await meanParamGradNorm(model.parameters()),
        }),
      });
      const tr = await evaluate(model, train);
      const te = await evaluate(model, test);
      const sens = await inputSensitivity(model, test);
      // the original’s number from the last epoch's last batch (logged with that epoch, so a resume keeps it)
      const seedSensitivity = ctx.series('epochs').filter((r) => r.batchSize === b).at(-1)?.seedSensitivity ?? null;
      ctx.log('batches', {
        batchSize: b, trainLoss: tr.loss, trainAcc: tr.acc, testLoss: te.loss, testAcc: te.acc,
        sensitivity: sens.task, sensitivityPerSample: sens.perSample, seedSensitivity,
      });
      ctx.final({
        [`${name}.testAcc`]: te.acc, [`${name}.trainAcc`]: tr.acc, [`${name}.testLoss`]: te.loss, [`${name}.trainLoss`]: tr.loss,
        [`${name}.sensitivity`]: sens.task, [`${name}.sensitivityPerSample`]: sens.perSample, [`${name}.seedSensitivity`]: seedSensitivity,
      });
      await unit!.finish();
      model.dispose();
      opt.dispose();
    }
    train.release();
    test.release();
    ctx.note(`Sensitivity (task) is measured on the ${test.length} test images with the mean loss over all of them; the original’s "sensitivity" (mean parameter-gradient norm of the last training batch) is shown apart as the original’s variant.`);
  },

  figures(r) {
    const rows = [...(r.series.batches ?? [])].sort((a, b) => Number(a.batchSize) - Number(b.batchSize));
    const x = { field: 'batchSize', title: 'training batch size', log: true };
    // one colour scale for both panels of a figure (they share it): train, test, and the two task sensitivities
    const S1 = '‖∂L/∂X‖_F (mean loss over the test set)', S2 = 'meanₙ ‖∂ℓₙ/∂xₙ‖_F (test set)';
    const color = { field: 'series', title: 'series', sort: ['train', 'test', S1, S2], colors: ['#4c78a8', '#f58518', '#54a24b', '#b279a2'] };
    const sens = line(melt(rows, ['batchSize'], { sensitivity: S1, sensitivityPerSample: S2 }, 'series'), {
      x, y: { field: 'value', title: 'sensitivity (task)', log: true }, color, points: true, height: 240, panelTitle: 'sensitivity (task)',
    });
    const panel = (cols: Record<string, string>, title: string, log: boolean) => line(melt(percent(rows, ['trainAcc', 'testAcc']), ['batchSize'], cols, 'series'), {
      x, y: { field: 'value', title, log }, color, points: true, height: 240, panelTitle: title,
    });
    const seedRows: Row[] = rows.map((b) => ({ batchSize: b.batchSize, value: b.seedSensitivity }));
    return [
      {
        name: 'loss-and-sensitivity', title: 'Loss and sensitivity vs batch size', definition: TASK,
        caption: 'Left: mean cross-entropy over the whole training and test sets. Right: the input-gradient sensitivity on the test set.',
        spec: panels([panel({ trainLoss: 'train', testLoss: 'test' }, 'loss (mean cross-entropy)', true), sens], 2),
      },
      {
        name: 'accuracy-and-sensitivity', title: 'Accuracy and sensitivity vs batch size', definition: TASK,
        caption: 'Left: accuracy over the whole training and test sets. Right: the input-gradient sensitivity on the test set.',
        spec: panels([panel({ trainAcc: 'train', testAcc: 'test' }, 'accuracy (%)', false), sens], 2),
      },
      {
        name: 'seed-sensitivity', title: 'The original’s "sensitivity": mean parameter-gradient norm of the last training batch', definition: SEED,
        caption: 'Not the sensitivity the task defines: a gradient with respect to the parameters, not the input, taken from one (often partial) training batch, so it moves with whichever batch came last.',
        spec: line(seedRows, { x, y: { field: 'value', title: 'mean ‖∂L_batch/∂θ‖_F over parameter tensors', log: true }, points: true, height: 240 }),
      },
    ];
  },

  summarize(r: Results) {
    const rows = [...(r.series.batches ?? [])].sort((a, b) => Number(a.batchSize) - Number(b.batchSize));
    if (rows.length < 2) return [];
    const list = (k: string, f: (v: number) => string) => rows.map((x) => `${x.batchSize}: ${f(Number(x[k]))}`).join(', ');
    const first = rows[0], last = rows.at(-1)!;
    const trend = (k: string) => (Number(last[k]) > Number(first[k]) ? 'rises' : 'falls');
    return [
      `Test accuracy by batch size ${list('testAcc', (v) => pct(v))}.`,
      `Sensitivity ‖∂L/∂X‖_F (task) ${list('sensitivity', (v) => num(v))}: it ${trend('sensitivity')} from batch ${first.batchSize} to ${last.batchSize}; ` +
        `per sample ${list('sensitivityPerSample', (v) => num(v))}.`,
      `The original’s variant (parameter gradients of the last batch): ${list('seedSensitivity', (v) => num(v))}.`,
    ];
  },
};

export default experiment;
