/**
 * 2-3 What happens when the gradient is almost zero. Each of N trainings of the deep 571-parameter model on f1:
 *   1. Adam on the MSE (the original’s whole training: its variant is measured here, a per-layer Gauss–Newton block);
 *   2. the task: switch the objective to g(θ) = ½‖∇L(θ)‖² (its gradient H·∇L costs one Hessian-vector product) and
 *      train until ‖∇L‖ is near 0;
 *   3. the full 571×571 Hessian of L (571 backward passes, float64 on the CPU for clean small eigenvalues), its
 *      eigenvalues (ml-matrix), and the minimal ratio = fraction of eigenvalues > τ, τ = tauRel·max|λ|.
 * Dead networks (constant output, loss = Var(f1)) are detected and shown apart. docs/protocol.md 2-3.
 *
 * Batched (the default): phases 1 and 2 train all N networks at once as one MLPEnsemble — one matmul per layer for
 * all of them, per-model losses and gradient norms read back every `readEvery` steps. A network whose ‖∇L‖ drops
 * below gradTol at a check stops there exactly as it would alone (its parameters at that check are the ones kept).
 * Phase 3 runs per network (one resumable unit each). `--one-by-one` trains them one after another instead.
 */
import * as g from '../index.js';
import { line, panels, scatter } from '../run/charts.js';
import { num } from '../run/format.js';
import { FUNCTION_MODELS, mlp } from './models.js';
import { ScalarLog, VectorLog } from './readback.js';
import { isConstant, median, regressionStep, variance } from './regression.js';
import { HessianPool, hessianSpectra, symmetricEigenvalues } from './hessian-spectrum.js';
import type { Experiment, Results, Row, RunContext } from '../run/types.js';

interface Config {
  trainings: number; adamSteps: number; lr: number;
  gradSteps: number; gradLr: number; gradTol: number; tauRel: number; readEvery: number;
  /** every k-th point of f1's 500 (1 = the protocol; the test preset thins the grid so the Hessian costs seconds) */
  pointStride: number;
  /** train the N networks one after another instead of batched in one ensemble (--one-by-one) */
  oneByOne: boolean;
  /**
   * batched: how many networks' float64 Hessians are computed together on the CPU (ensembleHessian). 1 by default:
   * with the CPU backend's fast loops the CPU is compute-bound, and 10 at once measured 2.6 s per network against
   * 2.2 s alone (bench/ensemble.ts); grouping pays where per-op overhead dominates (a GPU, float32).
   */
  hessianBatch: number;
  /**
   * batched: worker threads that compute those groups in parallel (0 = one per core, 1 = none: the main thread).
   * One by one computes each network's Hessian after its training, in the main thread, as running them one after
   * another means.
   */
  hessianWorkers: number;
}

const WIDTHS = FUNCTION_MODELS.deep;

/** Seconds spent in each phase during one attempt (reported as final numbers: where the time goes). */
interface Spent { adam: number; gradNorm: number; hessian: number }
const seconds = (t0: number) => (performance.now() - t0) / 1000;
const TASK = 'task (protocol 2-3: minimise ½‖∇L‖² after Adam; full Hessian in float64; ratio = #{λ > τ}/571)';
const SEED = (adamSteps: unknown) => `original’s variant (Adam steps only: ${adamSteps}, the original’s 1 000; per-layer Gauss–Newton blocks JᵀJ, weights only; ratio = mean over layers of #{λ > 0}/size in float32)`;

const experiment: Experiment<Config> = {
  name: 'minimal-ratio',
  section: '2-3',
  title: 'What happens when the gradient is almost zero (minimal ratio)',
  description: 'N trainings of the 571-parameter model: Adam, then minimise ½‖∇L‖²; Hessian eigenvalues; dead networks apart',
  quickShows: 'dead networks apart at loss Var(f1), and minimising ½‖∇L‖² lowering ‖∇L‖ for the alive ones (6 trainings)',
  data: ['functions'],
  presets: {
    full: { trainings: 100, adamSteps: 1000, lr: 1e-3, gradSteps: 2000, gradLr: 1e-4, gradTol: 1e-4, tauRel: 1e-6, readEvery: 100, pointStride: 1, oneByOne: false, hessianBatch: 1, hessianWorkers: 0 },
    quick: { trainings: 6, adamSteps: 1000, lr: 1e-3, gradSteps: 500, gradLr: 1e-4, gradTol: 1e-4, tauRel: 1e-6, readEvery: 50, pointStride: 1, oneByOne: false, hessianBatch: 1, hessianWorkers: 0 },
    test: { trainings: 1, adamSteps: 3, lr: 1e-3, gradSteps: 2, gradLr: 1e-4, gradTol: 1e-4, tauRel: 1e-6, readEvery: 2, pointStride: 25, oneByOne: false, hessianBatch: 1, hessianWorkers: 0 },
  },
  flags: { epochs: 'adamSteps', lr: 'lr', oneByOne: 'oneByOne' },

  async run(ctx) {
    const c = ctx.config;
    const f1 = g.f1();
    const keep = (a: Float64Array) => a.filter((_, k) => k % c.pointStride === 0);
    const points = { ...f1, x: keep(f1.x), y: keep(f1.y) };
    const { x, y, data } = g.functionDataset(points);
    const cpu = g.functionDataset(points, { device: 'cpu', dtype: 'float64' });
    const varF1 = variance(data.y);
    ctx.final({ varF1, trainings: c.trainings, tauRel: c.tauRel });
    const spent: Spent = { adam: 0, gradNorm: 0, hessian: 0 };
    if (c.oneByOne) {
      const bar = ctx.progress('trainings', c.trainings);
      for (let i = 0; i < c.trainings; i++) {
        const unit = ctx.unit(`training-${i}`);
        bar.update(i, `training ${i + 1}`);
        if (unit.finished) continue;
        const row = await oneTraining(ctx, spent, i, x, y, cpu.x, cpu.y);
        ctx.log('trainings', row);
        await unit.finish();
      }
      bar.update(c.trainings);
      bar.stop();
    } else {
      await batchedTrainings(ctx, spent, x, y, cpu.x, cpu.y);
    }
    for (const t of [x, y, cpu.x, cpu.y]) t.dispose();

    const rows = ctx.series('trainings');
    const alive = rows.filter((r) => !r.dead);
    const stats = (key: string, rs: readonly Row[]) => {
      const v = rs.map((r) => Number(r[key])).filter(Number.isFinite).sort((a, b) => a - b);
      return v.length ? { min: v[0], max: v[v.length - 1], median: v[Math.floor(v.length / 2)] } : { min: null, max: null, median: null };
    };
    const task = stats('taskRatio', alive);
    const seedAlive = rows.filter((r) => Number(r.seedRatio) > 0);
    const seed = stats('seedRatio', seedAlive);
    ctx.final({
      'seconds.adam': spent.adam, 'seconds.gradNorm': spent.gradNorm, 'seconds.hessian': spent.hessian,
      'task.dead': rows.length - alive.length, 'task.ratio.min': task.min, 'task.ratio.max': task.max, 'task.ratio.median': task.median,
      'task.gradNorm.median': stats('taskGradNorm', alive).median, 'task.loss.median': stats('taskLoss', alive).median,
      'seed.dead': rows.length - seedAlive.length, 'seed.ratio.min': seed.min, 'seed.ratio.max': seed.max,
      'dead.loss.mean': rows.length > alive.length ? rows.filter((r) => r.dead).reduce((s, r) => s + Number(r.adamLoss), 0) / (rows.length - alive.length) : null,
    });
  },

  figures(r) {
    const rows = (r.series.trainings ?? []).map((x) => ({ ...x, state: x.dead ? 'dead (constant output)' : 'alive' }));
    const state = { field: 'state', title: 'network', sort: ['alive', 'dead (constant output)'], colors: ['#4c78a8', '#e45756'] };
    const gmin = (r.series.gmin ?? []).map((x) => ({ ...x, state: x.dead ? 'dead (constant output)' : 'alive' }));
    return [
      {
        name: 'minimal-ratio-task', title: 'Minimal ratio vs loss after minimising the gradient norm', definition: TASK,
        caption: `One point per training. τ = ${r.config.tauRel}·max|λ|. Dead networks sit at loss Var(f1) = ${Number(r.final.varF1 ?? 0).toFixed(6)}.`,
        spec: scatter(rows, { x: { field: 'taskRatio', title: 'minimal ratio (fraction of Hessian eigenvalues > τ)', domain: [0, 1] }, y: { field: 'taskLoss', title: 'loss (MSE)', log: true }, color: state }),
      },
      {
        name: 'minimal-ratio-seed', title: 'The original’s variant: Gauss–Newton-block ratio vs loss after Adam', definition: SEED(r.config.adamSteps),
        caption: 'Dead networks get ratio 0 here because their blocks are exactly 0, not because they sit at a minimum.',
        spec: scatter(rows, { x: { field: 'seedRatio', title: 'GN-block ratio (mean over 8 layers of fraction > 0)', domain: [0, 1] }, y: { field: 'adamLoss', title: 'loss after Adam (MSE)', log: true }, color: state }),
      },
      {
        name: 'gradient-norm-minimisation', title: '‖∇L‖ while minimising ½‖∇L‖²', definition: TASK,
        caption: 'One line per training; the objective switched from the loss to the gradient norm at step 0.',
        spec: panels([
          line(gmin, { x: { field: 'step', title: 'step on ½‖∇L‖²', tight: true }, y: { field: 'gradNorm', title: '‖∇L‖₂', log: true }, color: state, detail: 'training', panelTitle: 'gradient norm' }),
          line(gmin, { x: { field: 'step', title: 'step on ½‖∇L‖²', tight: true }, y: { field: 'loss', title: 'loss (MSE)', log: true }, color: state, detail: 'training', panelTitle: 'loss' }),
        ], 2),
      },
    ];
  },

  summarize(r: Results) {
    const rows = r.series.trainings ?? [];
    if (!rows.length) return [];
    const dead = rows.filter((x) => x.dead);
    const out = [`${dead.length} of ${rows.length} trainings died (constant output)${dead.length ? `, at mean loss ${Number(r.final['dead.loss.mean']).toFixed(6)} vs Var(f1) = ${Number(r.final.varF1).toFixed(6)}` : ''}.`];
    const alive = rows.filter((x) => !x.dead);
    if (alive.length) {
      const med = (k: string) => { const v = alive.map((x) => Number(x[k])).sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
      const f = (k: string) => Number(r.final[k]).toFixed(3);
      out.push(`Task, alive runs after minimising ½‖∇L‖²: median ‖∇L‖ ${num(med('taskGradNorm'), 2)} (after Adam: ${num(med('adamGradNorm'), 2)}); ` +
        `median eigenvalue counts out of 571: ${med('nPositive')} above τ, ${med('nNearZero')} within ±τ, ${med('nNegative')} below −τ; minimal ratio ${f('task.ratio.min')}–${f('task.ratio.max')} (median ${f('task.ratio.median')}).`);
      out.push(med('nNegative') > 0
        ? 'Negative eigenvalues remain at the median run: these points are saddle-like or not yet critical, not minima; most directions are flat (|λ| ≤ τ).'
        : 'No negative eigenvalues at the median run: these are (degenerate) minima, flat in most directions.');
    }
    if (typeof r.final['seconds.adam'] === 'number') {
      const t = (k: string) => `${Number(r.final[k]).toFixed(1)} s`;
      out.push(`Time (${r.config.oneByOne ? 'one network after another' : `all ${rows.length} networks batched in one ensemble`}; ` +
        `the last attempt): Adam phase ${t('seconds.adam')}, ½‖∇L‖² phase ${t('seconds.gradNorm')}, Hessians in float64 on the CPU ${t('seconds.hessian')}.`);
    }
    out.push(`Seed variant: ${r.final['seed.dead']} run(s) with GN-block ratio exactly 0 — ${dead.length === r.final['seed.dead'] ? 'exactly the dead networks' : 'compare with the dead count above'}.`);
    return out;
  },
};

async function oneTraining(ctx: RunContext<Config>, spent: Spent, i: number, x: g.Tensor, y: g.Tensor, xCpu: g.Tensor, yCpu: g.Tensor): Promise<Row> {
  const c = ctx.config;
  const model = mlp(WIDTHS, ctx.rng('training', i, 'init'));
  const params = model.parameters();
  // 1. Adam on the loss
  let t0 = performance.now();
  const adam = new g.Adam(params, { lr: c.lr });
  let last: g.Tensor | null = null;
  for (let s = 0; s < c.adamSteps; s++) {
    last?.dispose();
    last = regressionStep(model, adam, x, y).loss;
    if (s % c.readEvery === 0) await g.sync(); // keep the queue short
  }
  adam.dispose();
  last?.dispose();
  const pred = g.noGrad(() => model.forward(x));
  const dead = isConstant(await pred.data());
  pred.dispose();
  const lossOf = () => g.F.mseLoss(model.forward(x), y);
  const [[adamLoss], [adamGradNorm]] = await lossAndGradNorm(params, lossOf);
  const [seedRatio] = await gaussNewtonRatios(linearLayers(model), x);
  spent.adam += seconds(t0);

  // 2. minimise g(θ) = ½‖∇L‖²: backward through the gradient gives H·∇L
  t0 = performance.now();
  const optG = new g.Adam(params, { lr: c.gradLr });
  const norms = new ScalarLog(c.readEvery);
  const losses = new ScalarLog(c.readEvery);
  let steps = 0;
  for (; steps < c.gradSteps; steps++) {
    const { loss, gradNorm } = gradNormStep(optG, params, lossOf);
    losses.push(loss);
    norms.push(gradNorm);
    if (norms.full || steps === c.gradSteps - 1) {
      const [n, l] = await Promise.all([norms.drain(), losses.drain()]);
      n.forEach((v, k) => { if ((steps - n.length + 1 + k) % Math.max(1, Math.floor(c.gradSteps / 200)) === 0) ctx.log('gmin', { training: i, dead, step: steps - n.length + 1 + k, gradNorm: v, loss: l[k] }); });
      if (n[n.length - 1] < c.gradTol) { steps++; break; }
    }
  }
  optG.dispose();
  const [[taskLoss], [taskGradNorm]] = await lossAndGradNorm(params, lossOf);
  spent.gradNorm += seconds(t0);
  if (!Number.isFinite(taskLoss) || !Number.isFinite(taskGradNorm)) {
    model.dispose();
    ctx.note(`Training ${i} diverged while minimising ½‖∇L‖² (loss ${taskLoss}); it has no Hessian (lower gradLr).`);
    return { training: i, dead, adamLoss, adamGradNorm, seedRatio, gradSteps: steps, taskLoss: null, taskGradNorm: null, diverged: true };
  }

  // 3. the full Hessian, in float64 on the CPU, and its spectrum
  t0 = performance.now();
  const state: Record<string, Float32Array> = {};
  for (const [k, t] of model.namedParameters()) state[k] = await t.data() as Float32Array;
  const [spectrum] = await hessianSpectra([state], xCpu, yCpu, c.tauRel);
  spent.hessian += seconds(t0);
  model.dispose();
  return { training: i, dead, adamLoss, adamGradNorm, seedRatio, gradSteps: steps, taskLoss, taskGradNorm, ...spectrum };
}

/**
 * One Adam step on g(θ) = ½‖∇L(θ)‖², whose gradient H·∇L comes from differentiating the gradient again. `losses`
 * gives one model's loss (a scalar) or an ensemble's per-model losses [N] (then every member minimises its own).
 * Returns the loss(es) and ‖∇L‖ before the update, on the device.
 */
function gradNormStep(opt: g.Adam, params: g.Tensor[], losses: () => g.Tensor): { loss: g.Tensor; gradNorm: g.Tensor } {
  return g.tidy(() => {
    opt.zeroGrad();
    const l = losses();
    const sq = squaredGradNorm(l, g.grad(l.ndim === 0 ? l : l.sum(), params, { createGraph: true }));
    (l.ndim === 0 ? sq : sq.sum()).mul(0.5).backward();
    opt.step();
    return { loss: l.detach(), gradNorm: sq.sqrt().detach() };
  });
}

/** ‖∇L‖² of one model (loss a scalar) or of each member of an ensemble (losses [N], gradients stacked [N, ...]). */
function squaredGradNorm(l: g.Tensor, grads: g.Tensor[]): g.Tensor {
  return l.ndim === 0 ? grads.map((t) => t.square().sum()).reduce((a, b) => a.add(b)) : g.perModelNorm(grads, { squared: true });
}

/** The loss(es) and ‖∇L‖ of one model or of every member ([1] or [N] values each), read back together. */
async function lossAndGradNorm(params: g.Tensor[], losses: () => g.Tensor): Promise<[Float32Array, Float32Array]> {
  const both = g.tidy(() => {
    const l = losses();
    const norm = squaredGradNorm(l, g.grad(l.ndim === 0 ? l : l.sum(), params)).sqrt();
    return g.stack([l.detach().reshape([-1]), norm.reshape([-1])]);
  });
  const v = await both.data() as Float32Array;
  both.dispose();
  const n = v.length / 2;
  return [v.slice(0, n), v.slice(n)];
}

/** One Linear layer's inputs a_n (rows × nIn) and output sensitivities δ_n (rows × nOut), row-major on the host. */
interface LayerActs { A: ArrayLike<number>; D: ArrayLike<number>; nIn: number; nOut: number; rows: number }

/** The original’s ratio from every layer's (a_n, δ_n): mean over layers of #{λ(JᵀJ) > 0} / size, in float32. */
function gaussNewtonRatioOf(layers: readonly LayerActs[]): number {
  let sum = 0;
  for (const { A, D, nIn, nOut, rows } of layers) {
    const k = nIn * nOut;
    const G = new Float64Array(k * k);
    const row = new Float64Array(k);
    for (let s = 0; s < rows; s++) {
      for (let o = 0; o < nOut; o++) for (let q = 0; q < nIn; q++) row[o * nIn + q] = D[s * nOut + o] * A[s * nIn + q];
      for (let p = 0; p < k; p++) { const rp = row[p]; if (rp !== 0) for (let q = 0; q < k; q++) G[p * k + q] += rp * row[q]; }
    }
    sum += symmetricEigenvalues(G, k, true).filter((v) => Math.fround(v) > 0).length / k;
  }
  return sum / layers.length;
}

// ---- batched: all N networks in one ensemble -------------------------------------------------------------------------

/** What phases 1 and 2 leave for phase 3, per network (kept in the 'family' unit's checkpoint). */
interface FamilyRow { training: number; dead: boolean; adamLoss: number; adamGradNorm: number; seedRatio: number; gradSteps: number; taskLoss: number; taskGradNorm: number }

async function batchedTrainings(ctx: RunContext<Config>, spent: Spent, x: g.Tensor, y: g.Tensor, xCpu: g.Tensor, yCpu: g.Tensor): Promise<void> {
  const c = ctx.config;
  const family = ctx.unit('family');
  let saved = family.finished ? await family.restore() : null;
  if (!saved) {
    const trained = await trainFamily(ctx, x, y);
    await family.finish(trained);
    saved = await family.restore();
  }
  for (const t of Object.values(saved!.tensors)) t.dispose();
  const { rows, seconds: famSeconds } = saved!.json as { rows: FamilyRow[]; seconds: { adam: number; gradNorm: number } };
  spent.adam += famSeconds.adam;
  spent.gradNorm += famSeconds.gradNorm;
  const bar = ctx.progress('Hessians', c.trainings);
  const todo = rows.filter((r) => !ctx.unit(`training-${r.training}`).finished);
  const finite = (r: FamilyRow) => Number.isFinite(r.taskLoss) && Number.isFinite(r.taskGradNorm);
  for (const r of todo.filter((r) => !finite(r))) {
    ctx.note(`Training ${r.training} diverged while minimising ½‖∇L‖² (loss ${r.taskLoss}); it has no Hessian (lower gradLr).`);
    ctx.log('trainings', { ...r, taskLoss: null, taskGradNorm: null, diverged: true });
    await ctx.unit(`training-${r.training}`).finish();
  }
  // the Hessians of `hessianBatch` networks at a time (one resumable step per group), the groups spread over worker
  // threads; each group is logged and finished in order as soon as it and those before it are done
  const live = todo.filter(finite);
  const groups: FamilyRow[][] = [];
  for (let at = 0; at < live.length; at += c.hessianBatch) groups.push(live.slice(at, at + c.hessianBatch));
  const pool = new HessianPool(c.hessianWorkers, xCpu, yCpu, c.tauRel);
  const t0 = performance.now();
  try {
    const submit = (group: FamilyRow[]) => pool.spectra(group.map((r) => {
      const p: Record<string, Float32Array> = {};
      for (const [k, a] of Object.entries(saved!.arrays)) if (k.startsWith(`${r.training}/`)) p[k.slice(`${r.training}/`.length)] = a;
      return p;
    }));
    // with workers every group is queued now; in the main thread each is computed when its turn comes (so a run
    // stopped in this phase keeps every group finished before)
    const pending = pool.workers ? groups.map(submit) : null;
    pending?.forEach((p) => p.catch(() => {})); // a failure surfaces at its own await below
    let done = rows.length - live.length;
    for (const [i, group] of groups.entries()) {
      bar.update(done, `Hessians of trainings ${group[0].training + 1}–${group[group.length - 1].training + 1}${pool.workers ? ` (${pool.workers} threads)` : ''}`);
      const spectra = await (pending ? pending[i] : submit(group));
      for (const [j, r] of group.entries()) {
        ctx.log('trainings', { ...r, ...spectra[j] });
        await ctx.unit(`training-${r.training}`).finish();
      }
      done += group.length;
    }
  } finally {
    spent.hessian += seconds(t0);
    await pool.close();
  }
  bar.update(c.trainings);
  bar.stop();
}

/** Phases 1 and 2 for all N networks at once; returns each network's parameters and measurements. */
async function trainFamily(ctx: RunContext<Config>, x: g.Tensor, y: g.Tensor): Promise<{ arrays: Record<string, Float32Array>; json: { rows: FamilyRow[]; seconds: { adam: number; gradNorm: number } } }> {
  const c = ctx.config;
  const N = c.trainings;
  // member i draws its initial values from the generator its one-by-one model would use
  const ens = new g.MLPEnsemble(N, WIDTHS, { generators: Array.from({ length: N }, (_, i) => ctx.rng('training', i, 'init')) });
  const params = ens.parameters();
  const bar = ctx.progress(`${N} trainings at once`, c.adamSteps + c.gradSteps);

  // 1. Adam on the per-model losses (their sum: member n's gradient is its own loss's)
  let t0 = performance.now();
  const adam = new g.Adam(params, { lr: c.lr });
  // nothing here depends on a read, so the queue holds up to two blocks of readEvery steps: while the device runs one,
  // the next is recorded
  let inFlight: Promise<void> | null = null;
  for (let s = 0; s < c.adamSteps; s++) {
    g.tidy(() => { adam.zeroGrad(); g.ensembleMSE(ens.forward(x), y).sum().backward(); adam.step(); });
    if (s % c.readEvery === 0) {
      const previous = inFlight;
      inFlight = g.sync();
      await previous;
      bar.update(s, 'Adam');
    }
  }
  await inFlight;
  adam.zeroGrad();
  adam.dispose();
  const pred = g.noGrad(() => ens.forward(x));
  const predHost = await pred.data();
  pred.dispose();
  const P = x.shape[0];
  const dead = Array.from({ length: N }, (_, n) => isConstant(predHost.subarray(n * P, (n + 1) * P)));
  const lossesOf = () => g.ensembleMSE(ens.forward(x), y);
  const [adamLoss, adamGradNorm] = await lossAndGradNorm(params, lossesOf);
  bar.line(`Adam: ${c.adamSteps} steps  ${dead.filter(Boolean).length} of ${N} dead  median loss ${num(median(Array.from(adamLoss)))}  median ‖∇L‖ ${num(median(Array.from(adamGradNorm)))}`);
  const seedRatio = await gaussNewtonRatios(ens, x);
  const adamSeconds = seconds(t0);
  t0 = performance.now();

  // 2. minimise g(θ) = ½‖∇L‖² per model; a model below gradTol at a check keeps the parameters it had there
  const optG = new g.Adam(params, { lr: c.gradLr });
  const norms = new VectorLog(c.readEvery), losses = new VectorLog(c.readEvery);
  const stoppedAt = new Map<number, number>();
  const kept = new Map<number, Record<string, Float32Array>>();
  const thinEvery = Math.max(1, Math.floor(c.gradSteps / 200));
  for (let steps = 0; steps < c.gradSteps; steps++) {
    const { loss, gradNorm } = gradNormStep(optG, params, lossesOf);
    losses.push(loss);
    norms.push(gradNorm);
    if (norms.full || steps === c.gradSteps - 1) {
      const [n, l] = await Promise.all([norms.drain(), losses.drain()]);
      const first = steps - n.length + 1;
      const newlyStopped: number[] = [];
      for (let m = 0; m < N; m++) {
        if (stoppedAt.has(m)) continue;
        n.forEach((row, k) => { if ((first + k) % thinEvery === 0) ctx.log('gmin', { training: m, dead: dead[m], step: first + k, gradNorm: row[m], loss: l[k][m] }); });
        if (n[n.length - 1][m] < c.gradTol) { stoppedAt.set(m, steps + 1); newlyStopped.push(m); }
      }
      if (newlyStopped.length) {
        const states = await memberStates(ens);
        for (const m of newlyStopped) kept.set(m, states[m]);
      }
      bar.update(c.adamSteps + steps + 1, `${stoppedAt.size} of ${N} below ${c.gradTol}`);
      if (stoppedAt.size === N) break;
    }
  }
  optG.zeroGrad();
  optG.dispose();
  // the stopped models get back the parameters they stopped with
  g.noGrad(() => {
    for (const [m, state] of kept) {
      for (const [k, p] of ens.namedParameters()) g.tidy(() => g.copyInto(p.slice(0, m, m + 1), g.tensor(state[k], { shape: [1, ...p.shape.slice(1)] })));
    }
  });
  const [taskLoss, taskGradNorm] = await lossAndGradNorm(params, lossesOf);
  const gradNormSeconds = seconds(t0);
  bar.line(`½‖∇L‖² minimised: ${stoppedAt.size} of ${N} below ‖∇L‖ ${num(c.gradTol)}  median ‖∇L‖ ${num(median(Array.from(taskGradNorm)))}  median loss ${num(median(Array.from(taskLoss)))}`);
  bar.stop();

  const arrays: Record<string, Float32Array> = {};
  (await memberStates(ens)).forEach((state, m) => { for (const [k, a] of Object.entries(state)) arrays[`${m}/${k}`] = a; });
  ens.dispose();
  const rows: FamilyRow[] = Array.from({ length: N }, (_, m) => ({
    training: m, dead: dead[m], adamLoss: adamLoss[m], adamGradNorm: adamGradNorm[m], seedRatio: seedRatio[m],
    gradSteps: stoppedAt.get(m) ?? c.gradSteps, taskLoss: taskLoss[m], taskGradNorm: taskGradNorm[m],
  }));
  return { arrays, json: { rows, seconds: { adam: adamSeconds, gradNorm: gradNormSeconds } } };
}

/** Every member's parameters on the host, by its own model's state-dict keys, from one read of each stacked one. */
async function memberStates(ens: g.MLPEnsemble): Promise<Record<string, Float32Array>[]> {
  const named = [...ens.namedParameters()];
  const host = await Promise.all(named.map(([, t]) => t.data() as Promise<Float32Array>));
  return Array.from({ length: ens.count }, (_, m) => Object.fromEntries(named.map(([k, t], j) => {
    const len = t.size / ens.count;
    return [k, host[j].slice(m * len, (m + 1) * len)];
  })));
}

/**
 * The original’s measure: for each Linear layer, J = ∂f(x_n)/∂W over the inputs (row n = δ_n ⊗ a_n, with a_n the layer's
 * input and δ_n = ∂f_n/∂z_n its output's sensitivity), the block JᵀJ rounded to float32, and the fraction of its
 * eigenvalues > 0; the ratio is the mean over the layers.
 */
async function gaussNewtonRatios({ weights, biases }: Layers, x: g.Tensor): Promise<number[]> {
  const last = weights.length - 1;
  const { inputs, deltas } = g.tidy(() => {
    let a = x;
    const inputs: g.Tensor[] = [];
    const zs: g.Tensor[] = [];
    weights.forEach((w, l) => {
      inputs.push(a.detach());
      const z = g.fusedLinear(a, w, biases[l]);
      zs.push(z);
      a = l < last ? z.relu() : z;
    });
    // f_n depends only on sample n (and, in an ensemble, on its member's z's), so ∂Σf/∂z_n = ∂f_n/∂z_n
    return { inputs, deltas: g.grad(a.sum(), zs) };
  });
  const host = await Promise.all([...inputs, ...deltas].map((t) => t.data()));
  const members = weights[0].ndim === 3 ? weights[0].shape[0] : 1, rows = x.shape[0];
  // member m's rows of a layer's [N, rows, k] values; a 2-D one is shared (layer 0's input) or the one model's
  const rowsOf = (t: g.Tensor, data: (typeof host)[number], m: number) => {
    const k = t.shape[t.ndim - 1];
    return { k, values: t.ndim === 2 ? data : data.subarray(m * rows * k, (m + 1) * rows * k) };
  };
  const ratios = Array.from({ length: members }, (_, m) => gaussNewtonRatioOf(inputs.map((t, l) => {
    const a = rowsOf(t, host[l], m), d = rowsOf(deltas[l], host[inputs.length + l], m);
    return { A: a.values, D: d.values, nIn: a.k, nOut: d.k, rows };
  })));
  for (const t of [...inputs, ...deltas]) t.dispose();
  return ratios;
}

/** The weights and biases of an MLP's Linear layers: a Sequential's ([out, in]) or an ensemble's stacked ones. */
interface Layers { weights: readonly g.Tensor[]; biases: readonly g.Tensor[] }
function linearLayers(model: g.Sequential): Layers {
  const linears: g.Linear[] = [];
  for (let i = 0; i < model.length; i++) { const m = model.at(i); if (m instanceof g.Linear) linears.push(m); }
  return { weights: linears.map((l) => l.weight), biases: linears.map((l) => l.bias!) };
}

export default experiment;
