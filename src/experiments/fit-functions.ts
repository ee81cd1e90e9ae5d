/**
 * 1-1 Deep vs shallow: simulate a function. Three MLPs with about the same number of parameters (deep 571, medium
 * 572, shallow 571) fit f1 = sin(5πx)/(5πx) and f2 = sign(sin(5πx)) with full-batch Adam on the MSE; the loss is
 * recorded every iteration before the update. docs/protocol.md 1-1.
 *
 * Every model is trained from `seeds` initialisations (ours: one seed's ranking is not a finding, seeds disagree); the
 * ranking is made on the median over seeds of the final MSE, the mean of the last iterations' losses (one point may sit
 * on a spike). Seed 0's curves are drawn; every seed's final MSE is listed and drawn.
 *
 * Batched (the default): all trainings run at once, one MLPEnsemble per architecture whose members fit f1 and f2 from
 * every seed, all three stepped together; each member starts from the generator its one-by-one model uses, so the curves are
 * the same within float rounding. (Rounding only: the padded f2 sums its gradients over 500 rows instead of 200, so
 * the last bit can differ; on the quick preset the curves agree to ~1e-7 for hundreds of steps, then f2's, whose
 * sign-function target makes training sensitive to its ReLUs' kinks, drift apart by up to a few % — as they would
 * on another GPU.) `--one-by-one` trains the models one after another.
 */
import * as g from '../index.js';
import { line, panels, scatter, thin } from '../run/charts.js';
import { num } from '../run/format.js';
import { FUNCTION_MODELS, ModuleGroup, mlp } from './models.js';
import { ScalarLog, VectorLog } from './readback.js';
import { isConstant, iterationText, median, regressionStep } from './regression.js';
import { iterateWithCheckpoints, resumeTraining, trainingState } from '../run/checkpoint.js';
import type { Experiment, Results, Row, RunContext } from '../run/types.js';

interface Config { iterations: number; lr: number; seeds: number; checkpointEvery: number; readEvery: number; oneByOne: boolean }

const FUNCTIONS = ['f1', 'f2'] as const;
const MODELS = Object.keys(FUNCTION_MODELS) as (keyof typeof FUNCTION_MODELS)[];
const DEFINITION = 'task (protocol 1-1: deep = 8 Linear layers, MSE before each update; the original’s swapped model labels corrected)';
const COLORS = ['#4c78a8', '#f58518', '#54a24b'];

const experiment: Experiment<Config> = {
  name: 'fit-functions',
  section: '1-1',
  title: 'Deep vs shallow: simulate a function',
  description: 'deep/medium/shallow MLPs of ~571 parameters fit sin(5πx)/(5πx) and sign(sin(5πx)); full-batch Adam, MSE',
  quickShows: `on f1, the deep model's median final MSE below the shallow model's, seed by seed in most of 4 seeds`,
  data: ['functions'],
  presets: {
    full: { iterations: 20000, lr: 1e-3, seeds: 5, checkpointEvery: 1000, readEvery: 250, oneByOne: false },
    quick: { iterations: 2000, lr: 1e-3, seeds: 4, checkpointEvery: 500, readEvery: 250, oneByOne: false },
    test: { iterations: 8, lr: 1e-3, seeds: 2, checkpointEvery: 4, readEvery: 3, oneByOne: false },
  },
  flags: { epochs: 'iterations', lr: 'lr', oneByOne: 'oneByOne' },

  async run(ctx) {
    // A run folder from before the batched path has no oneByOne setting: it continues the way it was started.
    if (ctx.config.oneByOne === false) await batched(ctx);
    else await oneByOne(ctx);
    finalMses(ctx);
  },

  figures(r) {
    const figs = [];
    const seeds = Number(r.config.seeds ?? 1);
    const model = { field: 'model', title: 'model', sort: MODELS, colors: COLORS };
    for (const fn of FUNCTIONS) {
      const loss = (r.series.loss ?? []).filter((row) => row.function === fn);
      figs.push({
        name: `${fn}-loss`, title: `${fn}: training loss of three ~571-parameter models`, definition: DEFINITION,
        caption: `Mean squared error over the full batch, before each Adam update; log scale.${seeds > 1 ? ` Seed 0 of ${seeds}; every seed's final MSE is in the next figure.` : ''}`,
        spec: line(thin(loss, 1500, 'model'), {
          x: { field: 'iteration', title: 'iteration', tight: true }, y: { field: 'mse', title: 'MSE (mean)', log: true }, color: model,
        }),
      });
      const pred = (r.series.prediction ?? []).filter((row) => row.function === fn);
      const truth: Row[] = pred.filter((row) => row.model === MODELS[0]).map((row) => ({ ...row, model: 'ground truth', y: row.truth }));
      figs.push({
        name: `${fn}-prediction`, title: `${fn}: predictions after training vs ground truth`, definition: DEFINITION,
        caption: `Each model labelled by its own name (the original report swapped models 2 and 3)${seeds > 1 ? '; seed 0' : ''}.`,
        spec: line([...truth, ...pred], {
          x: { field: 'x', title: 'x', tight: true }, y: { field: 'y', title: 'f(x)' },
          color: { field: 'model', title: 'model', sort: ['ground truth', ...MODELS], colors: ['#000000', ...COLORS] },
        }),
      });
    }
    const perSeed = (r.series.final ?? []).map((row): Row => ({ ...row, state: row.dead ? 'dead (constant output)' : 'alive' }));
    if (seeds > 1) {
      figs.push({
        name: 'final-mse-per-seed', title: `Final MSE of every seed (${seeds} per model)`, definition: `${DEFINITION}; final MSE = mean of the last iterations' losses`,
        caption: 'One point per training. The ranking is made on the medians; where the points of two models overlap, one seed could rank them either way.',
        spec: panels(FUNCTIONS.map((fn) => scatter(perSeed.filter((row) => row.function === fn), {
          x: { field: 'model', title: 'model', type: 'ordinal' }, y: { field: 'mse', title: 'final MSE', log: true },
          color: model, shape: { field: 'state', title: 'network' }, panelTitle: fn, width: 220, size: 70,
        })), 2),
      });
    }
    return figs;
  },

  summarize(r: Results) {
    const out: string[] = [];
    const seeds = Number(r.config.seeds ?? 1);
    const perSeed = r.series.final ?? [];
    for (const fn of FUNCTIONS) {
      const med = MODELS.map((m) => [m, r.final[`${fn}.${m}.mse`]] as const).filter(([, v]) => typeof v === 'number') as [string, number][];
      if (med.length !== MODELS.length) continue;
      const order = [...med].sort((a, b) => a[1] - b[1]);
      const spread = (m: string) => seeds > 1 ? ` (${num(Number(r.final[`${fn}.${m}.mse.min`]), 2)} – ${num(Number(r.final[`${fn}.${m}.mse.max`]), 2)})` : '';
      out.push(`${fn}${seeds > 1 ? `, ${seeds} seeds` : ''}: by ${seeds > 1 ? 'median ' : ''}final MSE ${order.map(([m, v]) => `${m} ${num(v)}${spread(m)}`).join(' < ')}.`);
      if (seeds > 1) {
        const wins = (a: string, b: string) => {
          let k = 0;
          for (let s = 0; s < seeds; s++) {
            const at = (m: string) => Number(perSeed.find((row) => row.function === fn && row.model === m && row.seed === s)?.mse);
            if (at(a) < at(b)) k++;
          }
          return k;
        };
        out.push(`${fn}, seed by seed: deep below shallow in ${wins('deep', 'shallow')} of ${seeds}, deep below medium in ${wins('deep', 'medium')}, medium below shallow in ${wins('medium', 'shallow')}.`);
      } else {
        out.push(`${fn}: one seed only — seeds disagree on this ranking, so it is not a finding (\`--set seeds=5\`).`);
      }
      for (const m of MODELS) {
        const dead = Number(r.final[`${fn}.${m}.dead`] ?? 0);
        if (dead > 0) out.push(`${fn}: ${m} died in ${dead} of ${seeds} seed${seeds === 1 ? '' : 's'} (constant output, MSE = Var(${fn})): its ReLUs are all off somewhere, so its gradients vanish (see 2-3).`);
      }
    }
    return out;
  },
};

/** Seed s's generator for a model: seed 0 is the one the single-seed runs used (their numbers stay the same). */
const initRng = (ctx: RunContext<Config>, fn: string, name: string, s: number) => (s === 0 ? ctx.rng(fn, name, 'init') : ctx.rng(fn, name, 'init', s));

/** The final MSE is the mean of the losses of the last 1 % of iterations (at least 10): one point may sit on a spike. */
const tailLength = (iterations: number) => Math.min(iterations, Math.max(10, Math.ceil(iterations / 100)));

/** One loss value: seed 0's into the curve, the last iterations' of every seed into `tail` (for the final MSE). */
function logLoss(ctx: RunContext<Config>, fn: string, name: string, seed: number, iteration: number, mse: number): void {
  if (seed === 0) ctx.log('loss', { function: fn, model: name, iteration, mse });
  if (iteration >= ctx.config.iterations - tailLength(ctx.config.iterations)) ctx.log('tail', { function: fn, model: name, seed, iteration, mse });
}

/** Every training one after another, each model with its own Adam (the comparison run, --one-by-one). */
async function oneByOne(ctx: RunContext<Config>): Promise<void> {
  const { iterations, lr, checkpointEvery, readEvery } = ctx.config;
  const seeds = ctx.config.seeds ?? 1;
  for (const fn of FUNCTIONS) {
    const { x, y, data } = g.functionDataset(fn);
    for (let s = 0; s < seeds; s++) {
      for (const name of MODELS) {
        const unit = ctx.unit(s === 0 ? `${fn}-${name}` : `${fn}-${name}-seed${s}`);
        if (unit.finished) continue;
        const model = mlp(FUNCTION_MODELS[name], initRng(ctx, fn, name, s));
        const opt = new g.Adam(model.parameters(), { lr });
        const from = await resumeTraining(unit, model, opt);
        const losses = new ScalarLog(readEvery);
        const label = `${fn} ${name}${seeds > 1 ? `, seed ${s}` : ''}`;
        const bar = ctx.progress(label, iterations);
        const record = async (it: number) => {
          const values = await losses.drain();
          values.forEach((mse, k) => logLoss(ctx, fn, name, s, it - values.length + k, mse));
          if (!values.length) return;
          bar.update(it, `MSE ${num(values.at(-1)!)}`);
          if (it % checkpointEvery === 0 || it === iterations) bar.line(`${iterationText(it, iterations)}  ${label}  MSE ${num(values.at(-1)!)}`);
        };
        await iterateWithCheckpoints(unit, {
          from, iterations, checkpointEvery, record, full: () => losses.full, state: () => trainingState(model, opt),
          step: () => losses.push(regressionStep(model, opt, x, y).loss),
        });
        bar.stop();

        const pred = g.noGrad(() => model.forward(x));
        measureFit(ctx, fn, name, s, await pred.data(), data, model.numParameters());
        pred.dispose();
        await unit.finish();
        model.dispose();
        opt.dispose();
      }
    }
    x.dispose();
    y.dispose();
  }
}

/**
 * Every training at once: per architecture one ensemble whose members are (seed, function) pairs — member s·2 + f fits
 * function f from seed s — and one Adam over the three ensembles' parameters, so each step trains all of them. f1 has
 * 500 points and f2 200: f2's inputs are padded to 500 with rows of mask 0, and each member's loss is the mean over its
 * own rows (ensembleMaskedMSE), so its loss and gradient are those of its training alone. One resumable unit holds all.
 */
async function batched(ctx: RunContext<Config>): Promise<void> {
  const { iterations, lr, checkpointEvery, readEvery } = ctx.config;
  const seeds = ctx.config.seeds ?? 1;
  const unit = ctx.unit('ensembles');
  if (unit.finished) return;
  const F = FUNCTIONS.length, N = F * seeds;
  const sets = FUNCTIONS.map((fn) => (fn === 'f1' ? g.f1() : g.f2()));
  const rows = Math.max(...sets.map((d) => d.x.length));
  const padded = (pick: (d: g.FunctionData) => ArrayLike<number>, shape: number[]) => {
    const a = new Float64Array(N * rows); // padding rows stay 0
    for (let n = 0; n < N; n++) a.set(pick(sets[n % F]), n * rows);
    return g.tensor(a, { shape, dtype: 'float32' });
  };
  const x = padded((d) => d.x, [N, rows, 1]);
  const y = padded((d) => d.y, [N, rows, 1]);
  const mask = padded((d) => new Float64Array(d.x.length).fill(1), [N, rows]);
  const ensembles = MODELS.map((name) => new g.MLPEnsemble(N, FUNCTION_MODELS[name], {
    generators: Array.from({ length: N }, (_, n) => initRng(ctx, FUNCTIONS[n % F], name, Math.floor(n / F))), // the one-by-one model's
  }));
  const group = new ModuleGroup(Object.fromEntries(MODELS.map((name, m) => [name, ensembles[m]])));
  const opt = new g.Adam(group.parameters(), { lr });
  const from = await resumeTraining(unit, group, opt);
  const losses = new VectorLog(readEvery); // per step [models, members]
  const bar = ctx.progress(`${MODELS.length * N} trainings`, iterations);
  const record = async (it: number) => {
    const values = await losses.drain();
    for (let n = 0; n < N; n++) {
      MODELS.forEach((name, m) => values.forEach((v, k) => logLoss(ctx, FUNCTIONS[n % F], name, Math.floor(n / F), it - values.length + k, v[m * N + n])));
    }
    if (!values.length) return;
    const last = values.at(-1)!;
    const msesOf = (f: number) => MODELS.map((name, m) => `${name} ${num(last[m * N + f], 2)}`).join(' ');
    const text = FUNCTIONS.map((fn, f) => `${fn}: ${msesOf(f)}`).join('  ·  ');
    bar.update(it, text);
    if (it % checkpointEvery === 0 || it === iterations) bar.line(`${iterationText(it, iterations)}  MSE${seeds > 1 ? ' (seed 0)' : ''}  ${text}`);
  };
  await iterateWithCheckpoints(unit, {
    from, iterations, checkpointEvery, record, full: () => losses.full, state: () => trainingState(group, opt),
    step: () => losses.push(g.tidy(() => {
      opt.zeroGrad();
      const perModel = g.stack(ensembles.map((e) => g.ensembleMaskedMSE(e.forward(x), y, mask)), 0);
      perModel.sum().backward();
      opt.step();
      return perModel.detach();
    })),
  });
  bar.stop();

  for (const [m, name] of MODELS.entries()) {
    const pred = g.noGrad(() => ensembles[m].forward(x));
    const p = await pred.data();
    pred.dispose();
    const params = ensembles[m].numParameters() / N;
    for (let n = 0; n < N; n++) {
      const set = sets[n % F];
      measureFit(ctx, FUNCTIONS[n % F], name, Math.floor(n / F), p.subarray(n * rows, n * rows + set.x.length), set, params);
    }
  }
  await unit.finish();
  group.dispose();
  opt.dispose();
  for (const t of [x, y, mask]) t.dispose();
}

/** A trained model's predictions on its function's points: seed 0's logged for the figure; whether it died; its size. */
function measureFit(ctx: RunContext<Config>, fn: string, name: string, seed: number, p: ArrayLike<number>, data: g.FunctionData, params: number): void {
  if (seed === 0) data.x.forEach((xv, i) => ctx.log('prediction', { function: fn, model: name, x: xv, y: p[i], truth: data.y[i] }));
  ctx.log('fits', { function: fn, model: name, seed, dead: isConstant(p) });
  ctx.final({ [`${name}.params`]: params });
}

/**
 * Each training's final MSE (the mean of its last iterations' losses, from the `tail` series), one `final` row per
 * training, and per function and model the median over seeds with its range and the number of dead seeds.
 */
function finalMses(ctx: RunContext<Config>): void {
  const seeds = ctx.config.seeds ?? 1;
  const tail = ctx.series('tail');
  if (ctx.series('final').length) return; // measured in an earlier attempt that stopped just after
  for (const fn of FUNCTIONS) {
    for (const name of MODELS) {
      const mses: number[] = [];
      let dead = 0;
      for (let s = 0; s < seeds; s++) {
        const v = tail.filter((row) => row.function === fn && row.model === name && row.seed === s).map((row) => Number(row.mse));
        const mse = v.reduce((a, b) => a + b, 0) / v.length;
        const isDead = ctx.series('fits').some((row) => row.function === fn && row.model === name && row.seed === s && row.dead === true);
        if (isDead) dead++;
        mses.push(mse);
        ctx.log('final', { function: fn, model: name, seed: s, mse, dead: isDead });
      }
      ctx.final({
        [`${fn}.${name}.mse`]: median(mses), [`${fn}.${name}.mse.min`]: Math.min(...mses), [`${fn}.${name}.mse.max`]: Math.max(...mses),
        [`${fn}.${name}.dead`]: dead,
      });
    }
  }
}

export default experiment;
