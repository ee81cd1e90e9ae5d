/**
 * 1-2 Deep vs shallow on MNIST: CNN-A (371 581 parameters, no dropout) and CNN-B (228 010, with dropout) trained the
 * same way (cross-entropy, Adam lr 1e-4, batch 64, 10 epochs); loss and test accuracy every epoch. Accuracy is
 * measured in eval mode (the task); CNN-B is also measured with dropout on, as the original did (it never called eval()).
 * docs/protocol.md 1-2.
 */
import { loadMnist } from './classifiers.js';
import { type CnnPairConfig, epochFigures, epochSummary, trainCnnPair } from './cnn-pair.js';
import { cnnA, cnnB } from './models.js';
import type { Experiment } from '../run/types.js';

type Config = CnnPairConfig;

const MODELS = ['cnnA', 'cnnB'] as const;
const LABEL: Record<string, string> = { cnnA: 'CNN-A (371 581 params)', cnnB: 'CNN-B (228 010 params, dropout)' };
const SEED_B = 'CNN-B, dropout on (original’s variant)';
const SEED_A_CURVE = [0.9093, 0.9395, 0.9605, 0.9710, 0.9749, 0.9788, 0.9781, 0.9786, 0.9841, 0.9837];

const experiment: Experiment<Config> = {
  name: 'mnist-cnns',
  section: '1-2',
  title: 'Deep vs shallow: train on MNIST (CNN-A vs CNN-B)',
  description: 'two MNIST CNNs (371 581 and 228 010 parameters), Adam lr 1e-4, batch 64; loss and test accuracy per epoch',
  quickShows: `both CNNs learning (test accuracy far above the 10 % of chance) from one pass over 8 000 images; CNN-A's ≥ 90 % needs one full epoch (--set trainSamples=60000), which CNN-B, 20× costlier per image, makes long without a GPU`,
  data: ['mnist'],
  presets: {
    full: { epochs: 10, lr: 1e-4, batchSize: 64 },
    // only sizes change (never the optimiser, lr or batch): CNN-B costs ~20× CNN-A per image (~0.35 s on today's CPU
    // backend), so one pass over 8 000 images takes minutes only on a device ~10× faster (the wasm CPU device)
    quick: { epochs: 1, lr: 1e-4, batchSize: 64, trainSamples: 8000, testSamples: 1000 },
    test: { epochs: 1, lr: 1e-3, batchSize: 8, trainSamples: 12, testSamples: 8 },
  },
  flags: { epochs: 'epochs', lr: 'lr', batchSize: 'batchSize' },

  async run(ctx) {
    const c = ctx.config;
    await trainCnnPair(ctx, await loadMnist(ctx, c.trainSamples, c.testSamples), experiment.presets.full.lr, MODELS, LABEL,
      (name, init, dropout) => (name === 'cnnA' ? cnnA(init) : cnnB(init, dropout)), 'cnnB', 'CNN-B');
  },

  figures: (r) => epochFigures(r, MODELS, LABEL, SEED_B, r.preset === 'full' ? SEED_A_CURVE : null, 'cnnA', 'MNIST'),

  summarize: (r) => epochSummary(r, MODELS, LABEL),
};

export default experiment;
