/**
 * 2-3 What happens when the gradient is almost zero. Each of N trainings of the deep 571-parameter model on f1:
 *   1. Adam on the MSE (the original’s whole training: its variant is measured here, a per-layer Gauss–Newton block);
 *   2. the task: switch the objective to g(θ) = ½‖∇L(θ)‖² (its gradient H·∇L costs one Hessian-vector product) and
 *      train until ‖∇L‖ is near 0;
 *   3. the full 571×571 Hessian of L (571 backward passes, float64 on the CPU for clean small eigenvalues), its
 *      eigenvalues (ml-matrix), and the minimal ratio = fraction of eigenvalues > τ, τ = tauRel·max|λ|.
 * Dead networks (constant output, loss = Var(f1)) are detected and shown apart, judged three times: at
 * initialisation, after Adam (what the original counted) and after minimising ½‖∇L‖² (where the task measures: a dead
 * network's gradient is exactly 0, so it is a global minimiser of ½‖∇L‖² and that phase can kill networks too).
 * docs/protocol.md 2-3.
 *
 * Batched (the default): phases 1 and 2 train all N networks at once as one MLPEnsemble — one matmul per layer for
 * all of them, per-model losses and gradient norms read back every `readEvery` steps. A network whose ‖∇L‖ drops
 * below gradTol at a check stops there exactly as it would alone (its parameters at that check are the ones kept).
 * Phase 3 runs per network (one resumable unit each). `--one-by-one` trains them one after another instead: the same
 * phases 1 and 2 (trainFamily) on a group of one network, then its Hessian.
 */
import * as g from '../index.js';
import { line, panels, scatter } from '../run/charts.js';
import { int, num } from '../run/format.js';
import { type Layers, type RegressionGroup, ensembleGroup, singleGroup, total } from './model-group.js';
import { FUNCTION_MODELS, mlp } from './models.js';
import { VectorLog } from './readback.js';
import { isConstant, median, variance } from './regression.js';
import type { Experiment, Progress, Results, Row, RunContext } from '../run/types.js';

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
const count = (flags: readonly boolean[]) => flags.filter(Boolean).length;
const STATES = ['alive', 'dead after Adam (constant output)', 'died minimising ½‖∇L‖²'] as const;

/** How many rows are flagged `key`; null when a row lacks the flag (a run folder from before it was recorded). */
const recordedCount = (rows: readonly Row[], key: 'deadInit' | 'deadTask') =>
  (rows.every((x) => typeof x[key] === 'boolean') ? rows.filter((x) => x[key]).length : null);

/** "Dead networks (constant output), of N: a at initialisation, b after Adam, c after minimising ½‖∇L‖²." */
function deadText(r: Results, rows: readonly Row[]): string {
  const init = recordedCount(rows, 'deadInit'), task = recordedCount(rows, 'deadTask');
  const parts = [init === null ? null : `${init} at initialisation`, `${rows.filter((x) => x.dead).length} after ${int(Number(r.config.adamSteps))} Adam steps`,
    task === null ? null : `${task} after minimising ½‖∇L‖²`];
  return `Dead networks (constant output) of ${rows.length} trainings: ${parts.filter(Boolean).join(', ')}.`;
}
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
      // each network alone: its phases 1 and 2 as a group of one, then its Hessian in this thread
      const bar = ctx.progress('trainings', c.trainings);
      for (let i = 0; i < c.trainings; i++) {
        const unit = ctx.unit(`training-${i}`);
        bar.update(i, `training ${i + 1}`);
        if (unit.finished) continue;
        const { rows, states, seconds: s } = await trainFamily(ctx, singleGroup(mlp(WIDTHS, ctx.rng('training', i, 'init'))), [i], x, y);
        spent.adam += s.adam;
        spent.gradNorm += s.gradNorm;
        await hessians(ctx, spent, rows, () => states[0], cpu.x, cpu.y, { batch: 1, workers: 1 });
      }
      bar.update(c.trainings);
      bar.stop();
    } else {
      await batchedTrainings(ctx, spent, x, y, cpu.x, cpu.y);
    }
    for (const t of [x, y, cpu.x, cpu.y]) t.dispose();

    const rows = ctx.series('trainings');
    const alive = rows.filter((r) => !deadForTask(r));
    const adamDead = rows.filter((r) => r.dead);
    const stats = (key: string, rs: readonly Row[]) => {
      const v = rs.map((r) => Number(r[key])).filter(Number.isFinite).sort((a, b) => a - b);
      return v.length ? { min: v[0], max: v[v.length - 1], median: v[Math.floor(v.length / 2)] } : { min: null, max: null, median: null };
    };
    const task = stats('taskRatio', alive);
    const seedAlive = rows.filter((r) => Number(r.seedRatio) > 0);
    const seed = stats('seedRatio', seedAlive);
    ctx.final({
      'seconds.adam': spent.adam, 'seconds.gradNorm': spent.gradNorm, 'seconds.hessian': spent.hessian,
      'init.dead': recordedCount(rows, 'deadInit'),
      'adam.dead': adamDead.length, 'task.dead': rows.length - alive.length, 'task.ratio.min': task.min, 'task.ratio.max': task.max, 'task.ratio.median': task.median,
      'task.gradNorm.median': stats('taskGradNorm', alive).median, 'task.loss.median': stats('taskLoss', alive).median,
      'seed.dead': rows.length - seedAlive.length, 'seed.ratio.min': seed.min, 'seed.ratio.max': seed.max,
      'dead.loss.mean': adamDead.length ? adamDead.reduce((s, r) => s + Number(r.adamLoss), 0) / adamDead.length : null,
    });
  },

  figures(r) {
    // the task's figures tell apart the networks dead after Adam and those that died minimising ½‖∇L‖²
    const trainings = r.series.trainings ?? [];
    const byTraining = new Map(trainings.map((x) => [Number(x.training), x]));
    const taskState = (x: Row) => (x.dead ? STATES[1] : deadForTask(x) ? STATES[2] : STATES[0]);
    const rows = trainings.map((x) => ({ ...x, state: taskState(x), adamState: x.dead ? STATES[1] : STATES[0] }));
    const state = { field: 'state', title: 'network', sort: [...STATES], colors: ['#4c78a8', '#e45756', '#f58518'] };
    const adamState = { ...state, field: 'adamState', sort: STATES.slice(0, 2), colors: state.colors.slice(0, 2) };
    const gmin = (r.series.gmin ?? []).map((x) => ({ ...x, state: taskState(byTraining.get(Number(x.training)) ?? x) }));
    return [
      {
        name: 'minimal-ratio-task', title: 'Minimal ratio vs loss after minimising the gradient norm', definition: TASK,
        caption: `One point per training. τ = ${r.config.tauRel}·max|λ|. Dead networks sit at loss Var(f1) = ${Number(r.final.varF1 ?? 0).toFixed(6)}.`,
        spec: scatter(rows, { x: { field: 'taskRatio', title: 'minimal ratio (fraction of Hessian eigenvalues > τ)', domain: [0, 1] }, y: { field: 'taskLoss', title: 'loss (MSE)', log: true }, color: state }),
      },
      {
        name: 'minimal-ratio-seed', title: 'The original’s variant: Gauss–Newton-block ratio vs loss after Adam', definition: SEED(r.config.adamSteps),
        caption: 'Dead networks get ratio 0 here because their blocks are exactly 0, not because they sit at a minimum.',
        spec: scatter(rows, { x: { field: 'seedRatio', title: 'GN-block ratio (mean over 8 layers of fraction > 0)', domain: [0, 1] }, y: { field: 'adamLoss', title: 'loss after Adam (MSE)', log: true }, color: adamState }),
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
    const out = [deadText(r, rows) + (dead.length ? ` The dead after Adam sit at mean loss ${Number(r.final['dead.loss.mean']).toFixed(6)} vs Var(f1) = ${Number(r.final.varF1).toFixed(6)}.` : '')];
    const alive = rows.filter((x) => !deadForTask(x));
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
    out.push(`Seed variant: ${r.final['seed.dead']} run(s) with GN-block ratio exactly 0 — ${dead.length === r.final['seed.dead'] ? 'exactly the networks dead after Adam' : 'compare with the count dead after Adam above'}.`);
    return out;
  },
};

/**
 * One Adam step on g(θ) = ½‖∇L(θ)‖², whose gradient H·∇L comes from differentiating the gradient again; in an
 * ensemble every member minimises its own.
 * Returns each network's loss and ‖∇L‖ before the update ([count] each), on the device.
 */
function gradNormStep(opt: g.Adam, group: RegressionGroup, x: g.Tensor, y: g.Tensor): { loss: g.Tensor; gradNorm: g.Tensor } {
  return g.tidy(() => {
    opt.zeroGrad();
    const l = group.loss(x, y);
    const sq = group.squaredGradNorms(g.grad(total(l), group.module.parameters(), { createGraph: true }));
    total(sq).mul(0.5).backward();
    opt.step();
    return { loss: l.detach().reshape([-1]), gradNorm: sq.sqrt().detach().reshape([-1]) };
  });
}

/** The loss and ‖∇L‖ of every network of the group ([count] values each), read back together. */
async function lossAndGradNorm(group: RegressionGroup, x: g.Tensor, y: g.Tensor): Promise<[Float32Array, Float32Array]> {
  const both = g.tidy(() => {
    const l = group.loss(x, y);
    const norm = group.squaredGradNorms(g.grad(total(l), group.module.parameters())).sqrt();
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
    sum += g.symmetricEigenvalues(G, k, true).filter((v) => Math.fround(v) > 0).length / k;
  }
  return sum / layers.length;
}

// ---- phases 1 and 2 for a group of networks; phase 3 per network -----------------------------------------------------

/**
 * What phases 1 and 2 leave for phase 3, per network (kept in the batched run's 'family' unit's checkpoint). `dead` is
 * judged after Adam (the original's point), `deadInit` before it, `deadTask` after minimising ½‖∇L‖² (the task's);
 * a run folder from before the latter two has neither.
 */
interface FamilyRow {
  training: number; dead: boolean; deadInit?: boolean; deadTask?: boolean; adamLoss: number; adamGradNorm: number; seedRatio: number;
  gradSteps: number; taskLoss: number; taskGradNorm: number;
}

/** Dead where the task measures: after minimising ½‖∇L‖² (after Adam for a run folder that did not record it). */
const deadForTask = (r: Row | FamilyRow) => Boolean(r.deadTask ?? r.dead);

/** Batched: phases 1 and 2 of all N networks at once as one resumable unit ('family'), then the Hessians. */
async function batchedTrainings(ctx: RunContext<Config>, spent: Spent, x: g.Tensor, y: g.Tensor, xCpu: g.Tensor, yCpu: g.Tensor): Promise<void> {
  const c = ctx.config;
  const family = ctx.unit('family');
  let saved = family.finished ? await family.restore() : null;
  if (!saved) {
    const N = c.trainings;
    // member i draws its initial values from the generator its one-by-one model would use
    const ens = new g.MLPEnsemble(N, WIDTHS, { generators: Array.from({ length: N }, (_, i) => ctx.rng('training', i, 'init')) });
    const { rows, states, seconds } = await trainFamily(ctx, ensembleGroup(ens), Array.from({ length: N }, (_, i) => i), x, y);
    const arrays: Record<string, Float32Array> = {};
    states.forEach((state, m) => { for (const [k, a] of Object.entries(state)) arrays[`${m}/${k}`] = a; });
    await family.finish({ arrays, json: { rows, seconds } });
    saved = await family.restore();
  }
  for (const t of Object.values(saved!.tensors)) t.dispose();
  const { rows, seconds: famSeconds } = saved!.json as { rows: FamilyRow[]; seconds: { adam: number; gradNorm: number } };
  spent.adam += famSeconds.adam;
  spent.gradNorm += famSeconds.gradNorm;
  const stateOf = (r: FamilyRow) => {
    const p: Record<string, Float32Array> = {};
    for (const [k, a] of Object.entries(saved!.arrays)) if (k.startsWith(`${r.training}/`)) p[k.slice(`${r.training}/`.length)] = a;
    return p;
  };
  const bar = ctx.progress('Hessians', c.trainings);
  await hessians(ctx, spent, rows, stateOf, xCpu, yCpu, { batch: c.hessianBatch, workers: c.hessianWorkers, bar });
  bar.update(c.trainings);
  bar.stop();
}

/**
 * Phase 3 for the networks whose unit `training-<i>` is not finished yet: a diverged one gets a note and no Hessian;
 * the others' Hessians are computed `batch` networks at a time (one resumable step per group), the groups spread over
 * `workers` threads; each group is logged and finished in order as soon as it and those before it are done.
 */
async function hessians(ctx: RunContext<Config>, spent: Spent, rows: readonly FamilyRow[], stateOf: (r: FamilyRow) => Record<string, Float32Array>,
  xCpu: g.Tensor, yCpu: g.Tensor, { batch, workers, bar }: { batch: number; workers: number; bar?: Progress }): Promise<void> {
  const todo = rows.filter((r) => !ctx.unit(`training-${r.training}`).finished);
  const finite = (r: FamilyRow) => Number.isFinite(r.taskLoss) && Number.isFinite(r.taskGradNorm);
  for (const r of todo.filter((r) => !finite(r))) {
    ctx.note(`Training ${r.training} diverged while minimising ½‖∇L‖² (loss ${r.taskLoss}); it has no Hessian (lower gradLr).`);
    ctx.log('trainings', { ...r, taskLoss: null, taskGradNorm: null, diverged: true });
    await ctx.unit(`training-${r.training}`).finish();
  }
  const live = todo.filter(finite);
  const groups: FamilyRow[][] = [];
  for (let at = 0; at < live.length; at += batch) groups.push(live.slice(at, at + batch));
  const pool = new g.HessianPool(WIDTHS, xCpu, yCpu, { tauRel: ctx.config.tauRel, workers });
  const t0 = performance.now();
  try {
    const submit = (group: FamilyRow[]) => pool.spectra(group.map(stateOf));
    // with workers every group is queued now; in the main thread each is computed when its turn comes (so a run
    // stopped in this phase keeps every group finished before)
    const pending = pool.workers ? groups.map(submit) : null;
    pending?.forEach((p) => p.catch(() => {})); // a failure surfaces at its own await below
    let done = rows.length - live.length;
    for (const [i, group] of groups.entries()) {
      bar?.update(done, `Hessians of trainings ${group[0].training + 1}–${group[group.length - 1].training + 1}${pool.workers ? ` (${pool.workers} threads)` : ''}`);
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
}

/**
 * Phases 1 and 2 for a group of networks (trainings `members`: all N at once in the batched run, one in the
 * one-by-one run); returns each network's measurements and final parameters, and the seconds each phase took.
 */
async function trainFamily(ctx: RunContext<Config>, group: RegressionGroup, members: readonly number[], x: g.Tensor, y: g.Tensor):
  Promise<{ rows: FamilyRow[]; states: Record<string, Float32Array>[]; seconds: { adam: number; gradNorm: number } }> {
  const c = ctx.config;
  const N = group.count;
  const params = group.module.parameters();
  const bar = ctx.progress(N > 1 ? `${N} trainings at once` : `training ${members[0] + 1}`, c.adamSteps + c.gradSteps);

  const deadInit = (await group.predictions(x)).map(isConstant);

  // 1. Adam on the loss (an ensemble's: the sum of the per-model losses, so member n's gradient is its own loss's)
  let t0 = performance.now();
  const adam = new g.Adam(params, { lr: c.lr });
  // nothing here depends on a read, so the queue holds up to two blocks of readEvery steps: while the device runs one,
  // the next is recorded
  let inFlight: Promise<void> | null = null;
  for (let s = 0; s < c.adamSteps; s++) {
    g.tidy(() => { adam.zeroGrad(); total(group.loss(x, y)).backward(); adam.step(); });
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
  const dead = (await group.predictions(x)).map(isConstant);
  const [adamLoss, adamGradNorm] = await lossAndGradNorm(group, x, y);
  bar.line(`Adam: ${c.adamSteps} steps  ${count(dead)} of ${N} dead (${count(deadInit)} at initialisation)  median loss ${num(median(Array.from(adamLoss)))}  median ‖∇L‖ ${num(median(Array.from(adamGradNorm)))}`);
  const seedRatio = await gaussNewtonRatios(group.layers, x);
  const adamSeconds = seconds(t0);
  t0 = performance.now();

  // 2. minimise g(θ) = ½‖∇L‖² per model; a model below gradTol at a check keeps the parameters it had there
  const optG = new g.Adam(params, { lr: c.gradLr });
  const norms = new VectorLog(c.readEvery), losses = new VectorLog(c.readEvery);
  const stoppedAt = new Map<number, number>();
  const kept = new Map<number, Record<string, Float32Array>>();
  const thinEvery = Math.max(1, Math.floor(c.gradSteps / 200));
  for (let steps = 0; steps < c.gradSteps; steps++) {
    const { loss, gradNorm } = gradNormStep(optG, group, x, y);
    losses.push(loss);
    norms.push(gradNorm);
    if (norms.full || steps === c.gradSteps - 1) {
      const [n, l] = await Promise.all([norms.drain(), losses.drain()]);
      const first = steps - n.length + 1;
      const newlyStopped: number[] = [];
      for (let m = 0; m < N; m++) {
        if (stoppedAt.has(m)) continue;
        n.forEach((row, k) => { if ((first + k) % thinEvery === 0) ctx.log('gmin', { training: members[m], dead: dead[m], step: first + k, gradNorm: row[m], loss: l[k][m] }); });
        if (n[n.length - 1][m] < c.gradTol) { stoppedAt.set(m, steps + 1); newlyStopped.push(m); }
      }
      if (newlyStopped.length) {
        const states = await group.states();
        for (const m of newlyStopped) kept.set(m, states[m]);
      }
      bar.update(c.adamSteps + steps + 1, `${stoppedAt.size} of ${N} below ${c.gradTol}`);
      if (stoppedAt.size === N) break;
    }
  }
  optG.zeroGrad();
  optG.dispose();
  for (const [m, state] of kept) group.restore(m, state); // the stopped models get back the parameters they stopped with
  const [taskLoss, taskGradNorm] = await lossAndGradNorm(group, x, y);
  const deadTask = (await group.predictions(x)).map(isConstant);
  const gradNormSeconds = seconds(t0);
  bar.line(`½‖∇L‖² minimised: ${stoppedAt.size} of ${N} below ‖∇L‖ ${num(c.gradTol)}  ${count(deadTask)} of ${N} dead  median ‖∇L‖ ${num(median(Array.from(taskGradNorm)))}  median loss ${num(median(Array.from(taskLoss)))}`);
  bar.stop();

  const states = await group.states();
  group.dispose();
  const rows: FamilyRow[] = members.map((training, m) => ({
    training, dead: dead[m], deadInit: deadInit[m], deadTask: deadTask[m], adamLoss: adamLoss[m], adamGradNorm: adamGradNorm[m], seedRatio: seedRatio[m],
    gradSteps: stoppedAt.get(m) ?? c.gradSteps, taskLoss: taskLoss[m], taskGradNorm: taskGradNorm[m],
  }));
  return { rows, states, seconds: { adam: adamSeconds, gradNorm: gradNormSeconds } };
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

export default experiment;
