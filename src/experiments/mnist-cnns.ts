/**
 * 1-2 Deep vs shallow on MNIST: CNN-A (371 581 parameters, no dropout) and CNN-B (228 010, with dropout) trained the
 * same way (cross-entropy, Adam lr 1e-4, batch 64, 10 epochs); loss and test accuracy every epoch. Accuracy is
 * measured in eval mode (the task); CNN-B is also measured with dropout on, as the original did (it never called eval()).
 * docs/protocol.md 1-2.
 */
import type * as g from '../index.js';
import { int } from '../run/format.js';
import { loadMnist } from './classifiers.js';
import { type CnnPairConfig, epochFigures, epochSummary, trainCnnPair } from './cnn-pair.js';
import { cnnA, cnnB } from './models.js';
import type { Experiment } from '../run/types.js';

/** cnnBTrainSamples: CNN-B's own training subset where it differs from CNN-A's (quick: CNN-B is the slow one). */
type Config = CnnPairConfig & { cnnBTrainSamples?: number };

const MODELS = ['cnnA', 'cnnB'] as const;
const LABEL: Record<string, string> = { cnnA: 'CNN-A (371 581 params)', cnnB: 'CNN-B (228 010 params, dropout)' };
const SEED_B = 'CNN-B, dropout on (original’s variant)';
const SEED_A_CURVE = [0.9093, 0.9395, 0.9605, 0.9710, 0.9749, 0.9788, 0.9781, 0.9786, 0.9841, 0.9837];

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

export default experiment;
