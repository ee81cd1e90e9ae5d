/**
 * 1-2 Deep vs shallow on CIFAR-10: CNN-1 (4 210 090 parameters: two convolutions, dropout, a wide dense layer) and
 * CNN-2 (2 299 258: four convolutions) trained the same way (cross-entropy, Adam lr 1e-4, batch 64, 70 epochs); loss
 * and test accuracy every epoch, in eval mode (the task), and CNN-1 also with dropout on (the seed never called
 * eval()). PROTOCOL.md 1-2.
 */
import * as g from '../index.js';
import { loadCifar10, lrNote, trainWithTestCurve } from './common.js';
import { epochFigures, epochSummary } from './mnist-cnns.js';
import { cnn1, cnn2 } from './models.js';
import type { Experiment } from './types.js';

interface Config { epochs: number; lr: number; batchSize: number; trainSamples?: number; testSamples?: number }

const MODELS = ['cnn1', 'cnn2'] as const;
const LABEL: Record<string, string> = { cnn1: 'CNN-1 (4 210 090 params, dropout)', cnn2: 'CNN-2 (2 299 258 params)' };
const SEED_1 = 'CNN-1, dropout on (seed variant)';

const experiment: Experiment<Config> = {
  name: 'cifar-cnns',
  section: '1-2',
  title: 'Deep vs shallow: train on CIFAR-10 (CNN-1 vs CNN-2)',
  description: 'two CIFAR-10 CNNs (4 210 090 and 2 299 258 parameters), Adam lr 1e-4, batch 64; loss and test accuracy per epoch',
  data: ['cifar10'],
  presets: {
    full: { epochs: 70, lr: 1e-4, batchSize: 64 },
    // SwiftShader on 2 cores: ~0.8 s (CNN-1) and ~1 s (CNN-2) per training image at load ~12: quick is a smoke run
    quick: { epochs: 2, lr: 1e-3, batchSize: 16, trainSamples: 32, testSamples: 32 },
    test: { epochs: 1, lr: 1e-3, batchSize: 4, trainSamples: 6, testSamples: 4 },
  },
  flags: { epochs: 'epochs', lr: 'lr', batchSize: 'batchSize' },

  async run(ctx) {
    const c = ctx.config;
    const { train, test } = await loadCifar10(ctx, c.trainSamples, c.testSamples);
    if (c.lr !== experiment.presets.full.lr) ctx.note(lrNote(c.lr, experiment.presets.full.lr, ctx.preset));
    for (const name of MODELS) {
      if (ctx.unit(name).finished) continue;
      const dropout = new g.Generator(0); // reseeded every epoch from the run's seed
      const model = name === 'cnn1' ? cnn1(ctx.rng(name, 'init'), dropout) : cnn2(ctx.rng(name, 'init'));
      ctx.final({ [`${name}.params`]: model.numParameters() });
      await trainWithTestCurve(ctx, name, model, train, test, {
        epochs: c.epochs, batchSize: c.batchSize, lr: c.lr, dropout, seedDropoutOn: name === 'cnn1',
      });
      model.dispose();
    }
    train.release();
    test.release();
    for (const name of MODELS) {
      const last = ctx.series('epochs').filter((r) => r.model === name).at(-1);
      if (!last) continue;
      ctx.final({ [`${name}.testAcc`]: last.testAcc, [`${name}.testLoss`]: last.testLoss, [`${name}.trainLoss`]: last.trainLoss });
      if (last.testAccDropoutOn !== undefined) ctx.final({ [`${name}.testAccDropoutOn`]: last.testAccDropoutOn });
    }
    ctx.note('CNN-1\'s accuracy is measured in eval mode (dropout off); the seed measured it with dropout on, shown as the seed variant.');
  },

  figures: (r) => epochFigures(r, MODELS, LABEL, SEED_1, null, 'cnn1', 'CIFAR-10'),

  summarize: (r) => epochSummary(r, MODELS, LABEL),
};

export default experiment;
