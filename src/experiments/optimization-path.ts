/**
 * 2-1 Visualise the optimisation process: 8 independent trainings of an MNIST MLP 784-256-128-10. At initialisation
 * and every few epochs, the flattened parameters of the whole model and of its first layer (fc1, all 256 units) are
 * collected with that epoch's loss and accuracy; PCA to 2 components, fitted jointly on every run's snapshots, shows
 * the paths. docs/protocol.md 2-1.
 *
 * PCA: with 88 rows of 235 146 columns, the components come from the rows' Gram matrix (88 × 88, its eigenvectors by
 * ml-matrix): the same components as an SVD of the data, in a second instead of minutes (ml-pca's SVD and NIPALS
 * work on the 235 146 columns).
 *
 * Batched (the default): the runs train in lockstep as one MLPEnsemble 784-256-128-10, member r initialised from run
 * r's generator exactly as its one-by-one MLP, each with its own shuffle; `--one-by-one` trains them one after another.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import * as g from '../index.js';
import { line, panels } from '../run/charts.js';
import { epochLine, type EpochStats, epochLoader, evaluate, evaluateEnsemble, loadMnist, trainEnsembleEpoch, trainUnit } from './classifiers.js';
import { flatParameters, memberFlatParameters } from './readback.js';
import { restoreTraining, trainingState } from '../run/checkpoint.js';
import { mnistMlp } from './models.js';
import type { Experiment, Results, RunContext } from '../run/types.js';

interface Config { runs: number; epochs: number; every: number; lr: number; batchSize: number; trainSamples?: number; oneByOne: boolean }

const HIDDEN = [256, 128];

const FC1 = 784 * 256 + 256; // fc1's weight and bias come first in the flattened parameters
const DEFINITION = 'task (protocol 2-1: every snapshot, one colour per run, the whole first layer; PCA fitted jointly on all runs)';

interface Snapshot { epoch: number; loss: number; acc: number }
interface SnapshotRow { run: number; s: Snapshot; params: Float32Array }

const experiment: Experiment<Config> = {
  name: 'optimization-path',
  section: '2-1',
  title: 'Visualise the optimisation process',
  description: '8 trainings of an MNIST MLP; parameter snapshots every 3 epochs projected by a joint PCA (whole model and fc1)',
  quickShows: '8 PCA paths, each leaving its own initialisation in its own direction with the training accuracy rising along it to ~86 % (6 epochs on 3 000 images); in the joint PCA the paths are short beside the distances between initialisations, the displacement figure draws them at their own scale',
  data: ['mnist'],
  presets: {
    full: { runs: 8, epochs: 30, every: 3, lr: 1e-4, batchSize: 64, oneByOne: false },
    quick: { runs: 8, epochs: 6, every: 1, lr: 1e-4, batchSize: 64, trainSamples: 3000, oneByOne: false },
    test: { runs: 2, epochs: 2, every: 1, lr: 1e-4, batchSize: 64, trainSamples: 64, oneByOne: false },
  },
  flags: { epochs: 'epochs', lr: 'lr', batchSize: 'batchSize', oneByOne: 'oneByOne' },

  async run(ctx) {
    const c = ctx.config;
    const { train } = await loadMnist(ctx, c.trainSamples, 1);
    // A run folder from before the batched path has no oneByOne setting: it continues the way it was started.
    const batchedRun = c.oneByOne === false;
    if (batchedRun) await trainBatched(ctx, train);
    else await trainOneByOne(ctx, train);
    train.release();
    const rows = batchedRun ? await batchedSnapshots(ctx) : await oneByOneSnapshots(ctx);

    // The task's PCA of the parameters, and (our addition) of each run's displacement from its own initialisation:
    // different inits sit far apart, so in the first the paths are short next to the gaps between runs.
    const init = new Map(rows.filter((x) => x.s.epoch === 0).map((x) => [x.run, x.params]));
    const moved = (x: SnapshotRow) => { const p0 = init.get(x.run)!; return x.params.map((v, k) => v - p0[k]); };
    for (const [kind, source] of [['params', (x: SnapshotRow) => x.params], ['displacement', moved]] as const) {
      const flat = rows.map(source);
      for (const [part, pick] of [['model', (p: Float32Array) => p], ['fc1', (p: Float32Array) => p.subarray(0, FC1)]] as const) {
        const { scores, explained } = pca2(flat.map(pick));
        const series = kind === 'params' ? 'pca' : 'pcaDisplacement';
        rows.forEach((x, i) => ctx.log(series, { part, run: x.run, epoch: x.s.epoch, pc1: scores[i][0], pc2: scores[i][1], loss: x.s.loss, acc: x.s.acc, label: `${(100 * x.s.acc).toFixed(0)}%` }));
        ctx.final({ [`${series}.${part}.explained1`]: explained[0], [`${series}.${part}.explained2`]: explained[1] });
      }
    }
    ctx.final({ runs: c.runs, snapshots: rows.length, 'finalAcc.mean': mean(rows.filter((x) => x.s.epoch === c.epochs).map((x) => x.s.acc)) });
  },

  figures(r) {
    const panel = (series: string, part: string, title: string) => {
      const pca = r.series[series] ?? [];
      const ex = [r.final[`${series}.${part}.explained1`], r.final[`${series}.${part}.explained2`]].map((v) => `${(100 * Number(v)).toFixed(1)} %`);
      return line(pca.filter((x) => x.part === part), {
        x: { field: 'pc1', title: `PC1 (${ex[0]} of the variance)` }, y: { field: 'pc2', title: `PC2 (${ex[1]})` },
        color: { field: 'run', title: 'run' }, order: 'epoch', points: true, label: 'label', panelTitle: title, width: 420, height: 340,
      });
    };
    const caption = `Snapshots at initialisation and every ${r.config.every} epoch(s), joined in time order, labelled with the training accuracy: at initialisation from an evaluation pass over the training set, afterwards the running mean over that epoch's batches (as the original reported it), so the first step of each label mixes the two.`;
    return [{
      name: 'optimization-path', title: `Optimisation paths of ${r.config.runs} trainings, PCA of the parameters`, definition: DEFINITION, caption,
      spec: panels([panel('pca', 'model', 'whole model (235 146 parameters)'), panel('pca', 'fc1', 'layer fc1 (784×256 + 256)')], 2),
    }, {
      name: 'optimization-path-displacement', title: 'The same paths, PCA of each run\'s displacement from its initialisation',
      definition: 'our addition (not in the protocol or the original): joint PCA of θ_t − θ_0, so each path shows at the scale of its training, not of the distance between initialisations',
      caption,
      spec: panels([panel('pcaDisplacement', 'model', 'whole model'), panel('pcaDisplacement', 'fc1', 'layer fc1')], 2),
    }];
  },

  summarize(r: Results) {
    const out: string[] = [];
    for (const part of ['model', 'fc1']) {
      const pct = (s: string) => 100 * (Number(r.final[`${s}.${part}.explained1`]) + Number(r.final[`${s}.${part}.explained2`]));
      if (Number.isFinite(pct('pca'))) {
        out.push(`${part}: the first two components explain ${pct('pca').toFixed(1)} % of the snapshots' variance (mostly the distances between the runs' initialisations), ${pct('pcaDisplacement').toFixed(1)} % of the displacements from them.`);
      }
    }
    if (r.final['finalAcc.mean'] !== undefined) out.push(`Mean training accuracy at the last epoch: ${(100 * Number(r.final['finalAcc.mean'])).toFixed(1)} %.`);
    return out;
  },
};

/** The runs one after another, each its own resumable unit `run-<r>` with its own Adam (the --one-by-one path). */
async function trainOneByOne(ctx: RunContext<Config>, train: g.ImageDataset): Promise<void> {
  const c = ctx.config;
  for (let r = 0; r < c.runs; r++) {
    const name = `run-${r}`;
    if (ctx.unit(name).finished) continue;
    const model = mnistMlp(HIDDEN, ctx.rng(name, 'init'));
    const opt = new g.Adam(model.parameters(), { lr: c.lr });
    let arrays: Record<string, Float32Array> = {};
    let meta: Snapshot[] = [];
    const snap = async (s: Snapshot) => { arrays[`e${s.epoch}`] = await flatParameters(model.parameters()); meta.push(s); };
    if (!ctx.unit(name).epochsDone) {
      const s0 = await evaluate(model, train);
      await snap({ epoch: 0, loss: s0.loss, acc: s0.acc });
    }
    const unit = await trainUnit(ctx, name, model, opt, train, {
      epochs: c.epochs, batchSize: c.batchSize, label: `MLP run ${r}`,
      afterEpoch: async (epoch, s) => {
        ctx.log('epochs', { run: r, epoch, loss: s.loss, acc: s.acc });
        if (epoch % c.every === 0 || epoch === c.epochs) await snap({ epoch, loss: s.loss, acc: s.acc });
      },
      extraState: () => ({ arrays, json: { snapshots: meta } }),
      onRestore: (a, json) => { arrays = a; meta = (json.snapshots ?? []) as Snapshot[]; },
    });
    await unit!.finish({ arrays, json: { snapshots: meta } });
    model.dispose();
    opt.dispose();
  }
}

/** Every run's snapshots, from the finished units' files (this attempt's and earlier ones'). */
async function oneByOneSnapshots(ctx: RunContext<Config>): Promise<SnapshotRow[]> {
  const rows: SnapshotRow[] = [];
  for (let r = 0; r < ctx.config.runs; r++) {
    const saved = await ctx.unit(`run-${r}`).restore();
    const snaps = ((saved?.json as { snapshots?: Snapshot[] })?.snapshots ?? []);
    for (const s of snaps) rows.push({ run: r, s, params: saved!.arrays[`e${s.epoch}`] });
  }
  return rows;
}

/**
 * The runs in lockstep as one ensemble and one Adam (one resumable unit, `runs`): each step stacks the runs' batches,
 * each from the run's own shuffle (the one its one-by-one training draws). Snapshots slice each member out of one
 * read of the stacked parameters.
 */
async function trainBatched(ctx: RunContext<Config>, train: g.ImageDataset): Promise<void> {
  const c = ctx.config;
  const unit = ctx.unit('runs');
  if (unit.finished) return;
  const runs = Array.from({ length: c.runs }, (_, r) => r);
  const ens = new g.MLPEnsemble(c.runs, [784, ...HIDDEN, 10], { generators: runs.map((r) => ctx.rng(`run-${r}`, 'init')) });
  const opt = new g.Adam(ens.parameters(), { lr: c.lr });
  let arrays: Record<string, Float32Array> = {};
  let snapshots: Snapshot[][] = runs.map(() => []);
  const snap = async (epoch: number, stats: EpochStats[]) => {
    const flat = await memberFlatParameters(ens.parameters());
    for (const r of runs) {
      arrays[`run-${r}.e${epoch}`] = flat[r];
      snapshots[r].push({ epoch, loss: stats[r].loss, acc: stats[r].acc });
    }
  };
  let epoch = 0;
  const restored = await unit.restore();
  if (restored) {
    arrays = restored.arrays;
    snapshots = (restored.json as { snapshots: Snapshot[][] }).snapshots;
    restoreTraining(restored, ens, opt);
    epoch = unit.epochsDone;
  } else {
    await snap(0, await evaluateEnsemble(ens, train));
  }
  const perEpoch = Math.ceil(train.length / c.batchSize);
  const bar = ctx.progress(`${c.runs} runs`, c.epochs * perEpoch);
  for (; epoch < c.epochs; epoch++) {
    const loaders = runs.map((r) => epochLoader(ctx, train, c.batchSize, `run-${r}`, epoch)); // as trainUnit's
    const e = epoch;
    const stats = await trainEnsembleEpoch(ens, opt, loaders, (i) => bar.update(e * perEpoch + i, `epoch ${e + 1}/${c.epochs}`));
    const done = epoch + 1;
    stats.forEach((s, r) => ctx.log('epochs', { run: r, epoch: done, loss: s.loss, acc: s.acc }));
    const mean = (k: 'loss' | 'acc') => stats.reduce((a, s) => a + s[k], 0) / stats.length;
    bar.line(`${epochLine(done, c.epochs, `${c.runs} MLPs (mean)`, { loss: mean('loss'), acc: mean('acc') })}`);
    if (done % c.every === 0 || done === c.epochs) await snap(done, stats);
    await unit.epochDone(done, { ...trainingState(ens, opt, { snapshots }), arrays });
  }
  bar.stop();
  await unit.finish({ arrays, json: { snapshots } });
  ens.dispose();
  opt.dispose();
}

async function batchedSnapshots(ctx: RunContext<Config>): Promise<SnapshotRow[]> {
  const saved = await ctx.unit('runs').restore();
  const all = (saved?.json as { snapshots?: Snapshot[][] })?.snapshots ?? [];
  return all.flatMap((snaps, r) => snaps.map((s) => ({ run: r, s, params: saved!.arrays[`run-${r}.e${s.epoch}`] })));
}

function mean(v: number[]): number { return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length); }

/** The first two principal components of the rows: scores and explained-variance fractions, via the Gram matrix. */
export function pca2(rows: Float32Array[]): { scores: [number, number][]; explained: [number, number] } {
  const n = rows.length, d = rows[0].length;
  const mu = new Float64Array(d);
  for (const r of rows) for (let k = 0; k < d; k++) mu[k] += r[k] / n;
  const centred = rows.map((r) => Float64Array.from(r, (v, k) => v - mu[k]));
  const G = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      const a = centred[i], b = centred[j];
      for (let k = 0; k < d; k++) s += a[k] * b[k];
      G.set(i, j, s);
      G.set(j, i, s);
    }
  }
  const e = new EigenvalueDecomposition(G, { assumeSymmetric: true });
  const order = e.realEigenvalues.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]);
  const total = e.realEigenvalues.reduce((a, v) => a + Math.max(v, 0), 0) || 1;
  const V = e.eigenvectorMatrix;
  const comp = [0, 1].map((c) => order[c] ?? [0, 0]);
  const scores = rows.map((_, i) => comp.map(([l, col]) => V.get(i, col) * Math.sqrt(Math.max(l, 0))) as [number, number]);
  return { scores, explained: [Math.max(comp[0][0], 0) / total, Math.max(comp[1][0], 0) / total] };
}

export default experiment;
