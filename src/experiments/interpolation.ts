/**
 * 3-3 part 1, flatness by interpolation: for each learning rate, the 3-3 CNN (14 718 parameters) is trained twice,
 * θ1 with batch 64 and θ2 with batch 1024 (each from its own init, Adam, 10 epochs); then along the line
 * θ(α) = (1 − α)·θ1 + α·θ2 over all parameters, α from −1 to 2 (0 and 1 included), loss and accuracy over the
 * training and test sets. docs/protocol.md 3-3.
 */
import * as g from '../index.js';
import { line, panels } from '../run/charts.js';
import { evaluate, loadMnist, trainUnit } from './classifiers.js';
import { flatnessCnn } from './models.js';
import type { Experiment, Results, Row } from '../run/types.js';

interface Config {
  lrs: number[]; batchSizes: [number, number]; epochs: number;
  /** α from −1 to 2 in steps of 1/alphaSteps (so 0 and 1 are on the grid) */
  alphaSteps: number;
  trainSamples?: number; testSamples?: number;
}

const DEFINITION = 'task (protocol 3-3: θ(α) = (1−α)θ1 + αθ2 over all parameters; loss and accuracy over the whole sets, eval mode; α = 0 and 1 on the grid)';

/** −1, −1 + 1/k, …, 2: exact at 0 and 1. */
export function alphaGrid(k: number): number[] {
  return Array.from({ length: 3 * k + 1 }, (_, i) => Number(((i - k) / k).toFixed(6)));
}

const experiment: Experiment<Config> = {
  name: 'interpolation',
  section: '3-3',
  title: 'Flatness vs generalisation: interpolating between two minima',
  description: 'the 3-3 CNN trained with batch 64 (θ1) and 1024 (θ2) at lr 1e-2 and 1e-3; loss/accuracy along (1−α)θ1 + αθ2',
  quickShows: 'a barrier between θ1 and θ2 at lr 1e-2 (train accuracy falling between α = 0 and α = 1, loss rising beyond them); at lr 1e-3 θ2 (batch 1 024: 24 steps at this size) is far from trained (under 60 % accuracy), so the barrier there is shallow and says little',
  data: ['mnist'],
  presets: {
    full: { lrs: [1e-2, 1e-3], batchSizes: [64, 1024], epochs: 10, alphaSteps: 10 },
    // the protocol's batch sizes on less data: θ2 takes 8 steps per epoch, θ1 128 — far enough apart for a barrier at
    // lr 1e-2; at lr 1e-3 θ2's 24 steps leave it under 60 % accuracy (a minimum needs the full preset's data)
    quick: { lrs: [1e-2, 1e-3], batchSizes: [64, 1024], epochs: 3, alphaSteps: 4, trainSamples: 8192, testSamples: 1000 },
    test: { lrs: [1e-2, 1e-3], batchSizes: [4, 8], epochs: 1, alphaSteps: 2, trainSamples: 12, testSamples: 8 },
  },
  flags: { epochs: 'epochs' },

  async run(ctx) {
    const c = ctx.config;
    const { train, test } = await loadMnist(ctx, c.trainSamples, c.testSamples);
    const alphas = alphaGrid(c.alphaSteps);
    const [b1, b2] = experiment.presets.full.batchSizes;
    if (c.batchSizes[0] !== b1 || c.batchSizes[1] !== b2) {
      ctx.note(`θ1 and θ2 trained with batch ${c.batchSizes[0]} and ${c.batchSizes[1]}; the protocol's are ${b1} and ${b2} (the ${ctx.preset} preset has less data, so the sizes shrink with it).`);
    }
    for (const lr of c.lrs) {
      // θ1 and θ2: trained units that keep their final parameters for the interpolation
      const ends: Record<string, g.Tensor>[] = [];
      for (const [k, batchSize] of c.batchSizes.entries()) {
        const name = `lr${lr}-theta${k + 1}`;
        const unit = ctx.unit(name);
        if (!unit.finished) {
          const model = flatnessCnn(ctx.rng(name, 'init'));
          const opt = new g.Adam(model.parameters(), { lr });
          const u = await trainUnit(ctx, name, model, opt, train, {
            epochs: c.epochs, batchSize, label: `θ${k + 1} (lr ${lr}, batch ${batchSize})`,
            afterEpoch: (epoch, s) => ctx.log('epochs', { lr, theta: `θ${k + 1}`, batchSize, epoch, trainLoss: s.loss, trainAcc: s.acc }),
          });
          await u!.finish({ tensors: Object.fromEntries(model.namedParameters()) });
          model.dispose();
          opt.dispose();
        }
        const saved = await ctx.unit(name).restore();
        ends.push(saved!.tensors);
      }

      // the line between them, one α per resumable step
      const sweep = ctx.unit(`lr${lr}-sweep`);
      if (!sweep.finished) {
        const model = flatnessCnn(new g.Generator(0));
        for (let i = sweep.epochsDone; i < alphas.length; i++) {
          const alpha = alphas[i];
          const mixed = g.tidy(() => Object.fromEntries(Object.entries(ends[0]).map(([key, t1]) =>
            [key, t1.mul(1 - alpha).add(ends[1][key].mul(alpha))])));
          model.loadStateDict(mixed);
          for (const t of Object.values(mixed)) t.dispose();
          const tr = await evaluate(model, train);
          const te = await evaluate(model, test);
          ctx.log('alpha', { lr, alpha, trainLoss: tr.loss, trainAcc: tr.acc, testLoss: te.loss, testAcc: te.acc });
          await sweep.epochDone(i + 1);
        }
        await sweep.finish();
        model.dispose();
      }
      for (const e of ends) for (const t of Object.values(e)) t.dispose();

      const rows = ctx.series('alpha').filter((r) => r.lr === lr);
      const at = (a: number) => rows.find((r) => r.alpha === a);
      const inside = rows.filter((r) => Number(r.alpha) > 0 && Number(r.alpha) < 1);
      const barrier = inside.reduce<Row | null>((m, r) => (!m || Number(r.trainAcc) < Number(m.trainAcc) ? r : m), null);
      ctx.final({
        [`lr${lr}.trainLoss.alpha0`]: at(0)?.trainLoss ?? null, [`lr${lr}.trainLoss.alpha1`]: at(1)?.trainLoss ?? null,
        [`lr${lr}.trainLoss.alpha2`]: at(2)?.trainLoss ?? null, [`lr${lr}.testAcc.alpha0`]: at(0)?.testAcc ?? null,
        [`lr${lr}.testAcc.alpha1`]: at(1)?.testAcc ?? null,
        [`lr${lr}.trainAcc.barrier`]: barrier?.trainAcc ?? null, [`lr${lr}.alpha.barrier`]: barrier?.alpha ?? null,
      });
    }
    train.release();
    test.release();
  },

  figures(r) {
    const rows = r.series.alpha ?? [];
    const bs = (r.config.batchSizes as number[]) ?? [64, 1024];
    return ((r.config.lrs as number[]) ?? []).map((lr) => {
      const mine = rows.filter((x) => x.lr === lr).flatMap((x) => [
        { alpha: x.alpha, split: 'train', loss: x.trainLoss, acc: 100 * Number(x.trainAcc) },
        { alpha: x.alpha, split: 'test', loss: x.testLoss, acc: 100 * Number(x.testAcc) },
      ]);
      const split = { field: 'split', title: 'set', sort: ['train', 'test'], colors: ['#4c78a8', '#f58518'] };
      const x = { field: 'alpha', title: `α  (θ1 = batch ${bs[0]} at α = 0, θ2 = batch ${bs[1]} at α = 1)` };
      return {
        name: `interpolation-lr${lr}`, title: `Loss and accuracy along (1−α)θ1 + αθ2, lr ${lr}`, definition: DEFINITION,
        caption: 'Left: mean cross-entropy (log scale); right: accuracy. Each point is the interpolated model measured over the whole training and test sets.',
        spec: panels([
          line(mine, { x, y: { field: 'loss', title: 'loss (mean cross-entropy)', log: true }, color: split, points: true, panelTitle: 'loss', width: 380 }),
          line(mine, { x, y: { field: 'acc', title: 'accuracy (%)', domain: [0, 100] }, color: split, points: true, panelTitle: 'accuracy', width: 380 }),
        ], 2),
      };
    });
  },

  summarize(r: Results) {
    const out: string[] = [];
    for (const lr of (r.config.lrs as number[]) ?? []) {
      const f = (k: string) => r.final[`lr${lr}.${k}`];
      if (f('trainLoss.alpha0') === undefined) continue;
      const n = (v: unknown) => (typeof v === 'number' ? v.toPrecision(3) : '—');
      out.push(`lr ${lr}: train loss ${n(f('trainLoss.alpha0'))} at θ1 (α = 0), ${n(f('trainLoss.alpha1'))} at θ2 (α = 1), ${n(f('trainLoss.alpha2'))} at α = 2; ` +
        `test accuracy ${(100 * Number(f('testAcc.alpha0'))).toFixed(1)} % at θ1, ${(100 * Number(f('testAcc.alpha1'))).toFixed(1)} % at θ2; ` +
        `lowest train accuracy between them ${(100 * Number(f('trainAcc.barrier'))).toFixed(1)} % at α = ${n(f('alpha.barrier'))}` +
        barrierText(r.series.alpha?.filter((x) => x.lr === lr) ?? [], Number(f('trainAcc.barrier'))));
    }
    return out;
  },
};

/**
 * Whether the dip between θ1 and θ2 is a barrier: it must lie clearly (5 points) below the worse end's train accuracy.
 * An end far from trained (θ2 after a short large-batch training, at small presets) is named as such: a dip towards it
 * says little about the minima.
 */
function barrierText(rows: Row[], lowest: number): string {
  const end = (a: number) => Number(rows.find((x) => x.alpha === a)?.trainAcc);
  const worse = Math.min(end(0), end(1));
  if (!Number.isFinite(worse) || !Number.isFinite(lowest)) return '.';
  const depth = 100 * (worse - lowest);
  const which = `θ${end(0) < end(1) ? 1 : 2} at ${(100 * worse).toFixed(1)} %${worse < 0.8 ? ', itself far from trained' : ''}`;
  return depth >= 5 ? `: a barrier ${depth.toFixed(1)} points below the worse end (${which}).`
    : `: no barrier, only ${depth.toFixed(1)} points below the worse end (${which}).`;
}

export default experiment;
