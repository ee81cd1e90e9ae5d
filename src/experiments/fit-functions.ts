/**
 * 1-1 Deep vs shallow: simulate a function. Three MLPs with about the same number of parameters (deep 571, medium
 * 572, shallow 571) fit f1 = sin(5πx)/(5πx) and f2 = sign(sin(5πx)) with full-batch Adam on the MSE; the loss is
 * recorded every iteration before the update. docs/protocol.md 1-1.
 *
 * Batched (the default): the six trainings run at once, one MLPEnsemble per architecture whose two members fit f1 and
 * f2, all three stepped together; each member starts from the generator its one-by-one model uses, so the curves are
 * the same within float rounding. (Rounding only: the padded f2 sums its gradients over 500 rows instead of 200, so
 * the last bit can differ; on the quick preset the curves agree to ~1e-7 for hundreds of steps, then f2's, whose
 * sign-function target makes training sensitive to its ReLUs' kinks, drift apart by up to a few % — as they would
 * on another GPU.) `--one-by-one` trains the six models one after another.
 */
import * as g from '../index.js';
import { line, thin } from '../report/charts.js';
import { num } from '../report/format.js';
import { FUNCTION_MODELS, ModuleGroup, iterationText, ScalarLog, VectorLog, isConstant, iterateWithCheckpoints, mlp, regressionStep, resumeTraining, trainingState } from './common.js';
import type { Experiment, Results, Row, RunContext } from './types.js';

interface Config { iterations: number; lr: number; checkpointEvery: number; readEvery: number; oneByOne: boolean }

const FUNCTIONS = ['f1', 'f2'] as const;
const MODELS = Object.keys(FUNCTION_MODELS) as (keyof typeof FUNCTION_MODELS)[];
const DEFINITION = 'task (protocol 1-1: deep = 8 Linear layers, MSE before each update; the original’s swapped model labels corrected)';

const experiment: Experiment<Config> = {
  name: 'fit-functions',
  section: '1-1',
  title: 'Deep vs shallow: simulate a function',
  description: 'deep/medium/shallow MLPs of ~571 parameters fit sin(5πx)/(5πx) and sign(sin(5πx)); full-batch Adam, MSE',
  data: ['functions'],
  presets: {
    full: { iterations: 20000, lr: 1e-3, checkpointEvery: 1000, readEvery: 250, oneByOne: false },
    quick: { iterations: 1200, lr: 1e-3, checkpointEvery: 400, readEvery: 200, oneByOne: false },
    test: { iterations: 8, lr: 1e-3, checkpointEvery: 4, readEvery: 3, oneByOne: false },
  },
  flags: { epochs: 'iterations', lr: 'lr', oneByOne: 'oneByOne' },

  async run(ctx) {
    // A run folder from before the batched path has no oneByOne setting: it continues the way it was started.
    if (ctx.config.oneByOne === false) await batched(ctx);
    else await oneByOne(ctx);
  },

  figures(r) {
    const figs = [];
    for (const fn of FUNCTIONS) {
      const loss = (r.series.loss ?? []).filter((row) => row.function === fn);
      figs.push({
        name: `${fn}-loss`, title: `${fn}: training loss of three ~571-parameter models`, definition: DEFINITION,
        caption: 'Mean squared error over the full batch, before each Adam update; log scale.',
        spec: line(thin(loss, 1500, 'model'), {
          x: { field: 'iteration', title: 'iteration', tight: true }, y: { field: 'mse', title: 'MSE (mean)', log: true },
          color: { field: 'model', title: 'model', sort: MODELS, colors: ['#4c78a8', '#f58518', '#54a24b'] },
        }),
      });
      const pred = (r.series.prediction ?? []).filter((row) => row.function === fn);
      const truth: Row[] = pred.filter((row) => row.model === MODELS[0]).map((row) => ({ ...row, model: 'ground truth', y: row.truth }));
      figs.push({
        name: `${fn}-prediction`, title: `${fn}: predictions after training vs ground truth`, definition: DEFINITION,
        caption: 'Each model labelled by its own name (the original report swapped models 2 and 3).',
        spec: line([...truth, ...pred], {
          x: { field: 'x', title: 'x', tight: true }, y: { field: 'y', title: 'f(x)' },
          color: { field: 'model', title: 'model', sort: ['ground truth', ...MODELS], colors: ['#000000', '#4c78a8', '#f58518', '#54a24b'] },
        }),
      });
    }
    return figs;
  },

  summarize(r: Results) {
    const out: string[] = [];
    for (const fn of FUNCTIONS) {
      const mses = MODELS.map((m) => [m, r.final[`${fn}.${m}.mse`]] as const).filter(([, v]) => typeof v === 'number') as [string, number][];
      if (mses.length === MODELS.length) {
        const order = [...mses].sort((a, b) => a[1] - b[1]);
        out.push(`${fn}: ranking by final MSE ${order.map(([m, v]) => `${m} (${v.toExponential(2)})`).join(' < ')}.`);
        const dead = MODELS.filter((m) => r.final[`${fn}.${m}.dead`] === true);
        if (dead.length) out.push(`${fn}: ${dead.join(' and ')} died (constant output, MSE = Var(${fn})): its ReLUs are all off somewhere, so its gradients vanish (see 2-3).`);
      }
    }
    return out;
  },
};

/** The six trainings one after another, each model with its own Adam (the comparison run, --one-by-one). */
async function oneByOne(ctx: RunContext<Config>): Promise<void> {
  const { iterations, lr, checkpointEvery, readEvery } = ctx.config;
  for (const fn of FUNCTIONS) {
    const { x, y, data } = g.functionDataset(fn);
    for (const name of MODELS) {
      const unit = ctx.unit(`${fn}-${name}`);
      if (unit.finished) continue;
      const model = mlp(FUNCTION_MODELS[name], ctx.rng(fn, name, 'init'));
      const opt = new g.Adam(model.parameters(), { lr });
      const from = await resumeTraining(unit, model, opt);
      const losses = new ScalarLog(readEvery);
      const bar = ctx.progress(`${fn} ${name}`, iterations);
      const record = async (it: number) => {
        const values = await losses.drain();
        values.forEach((mse, k) => ctx.log('loss', { function: fn, model: name, iteration: it - values.length + k, mse }));
        if (!values.length) return;
        bar.update(it, `MSE ${num(values.at(-1)!)}`);
        if (it % checkpointEvery === 0 || it === iterations) bar.line(`${iterationText(it, iterations)}  ${fn} ${name}  MSE ${num(values.at(-1)!)}`);
      };
      await iterateWithCheckpoints(unit, {
        from, iterations, checkpointEvery, record, full: () => losses.full, state: () => trainingState(model, opt),
        step: () => losses.push(regressionStep(model, opt, x, y).loss),
      });
      bar.stop();

      const pred = g.noGrad(() => model.forward(x));
      measureFit(ctx, fn, name, await pred.data(), data, model.numParameters());
      pred.dispose();
      await unit.finish();
      model.dispose();
      opt.dispose();
    }
    x.dispose();
    y.dispose();
  }
}

/**
 * The six trainings at once: per architecture one ensemble of two members (f1, f2), and one Adam over the three
 * ensembles' parameters, so each step trains all six models. f1 has 500 points and f2 200: f2's inputs are padded to
 * 500 with rows of mask 0, and each member's loss is the mean over its own rows (ensembleMaskedMSE), so its loss and
 * gradient are those of its training alone. One resumable unit holds all six.
 */
async function batched(ctx: RunContext<Config>): Promise<void> {
  const { iterations, lr, checkpointEvery, readEvery } = ctx.config;
  const unit = ctx.unit('ensembles');
  if (unit.finished) return;
  const sets = FUNCTIONS.map((fn) => (fn === 'f1' ? g.f1() : g.f2()));
  const rows = Math.max(...sets.map((d) => d.x.length));
  const padded = (pick: (d: g.FunctionData) => ArrayLike<number>, shape: number[]) => {
    const a = new Float64Array(sets.length * rows); // padding rows stay 0
    sets.forEach((d, n) => a.set(pick(d), n * rows));
    return g.tensor(a, { shape, dtype: 'float32' });
  };
  const x = padded((d) => d.x, [sets.length, rows, 1]);
  const y = padded((d) => d.y, [sets.length, rows, 1]);
  const mask = padded((d) => new Float64Array(d.x.length).fill(1), [sets.length, rows]);
  const ensembles = MODELS.map((name) => new g.MLPEnsemble(FUNCTIONS.length, FUNCTION_MODELS[name], {
    generators: FUNCTIONS.map((fn) => ctx.rng(fn, name, 'init')), // the one-by-one model's generator
  }));
  const group = new ModuleGroup(Object.fromEntries(MODELS.map((name, m) => [name, ensembles[m]])));
  const opt = new g.Adam(group.parameters(), { lr });
  const from = await resumeTraining(unit, group, opt);
  const losses = new VectorLog(readEvery); // per step [models, functions]
  const bar = ctx.progress(`${MODELS.length * FUNCTIONS.length} trainings`, iterations);
  const record = async (it: number) => {
    const values = await losses.drain();
    FUNCTIONS.forEach((fn, f) => MODELS.forEach((name, m) => values.forEach((v, k) =>
      ctx.log('loss', { function: fn, model: name, iteration: it - values.length + k, mse: v[m * FUNCTIONS.length + f] }))));
    if (!values.length) return;
    const last = values.at(-1)!;
    const msesOf = (f: number) => MODELS.map((name, m) => `${name} ${num(last[m * FUNCTIONS.length + f], 2)}`).join(' ');
    bar.update(it, FUNCTIONS.map((fn, f) => `${fn}: ${msesOf(f)}`).join(' · '));
    if (it % checkpointEvery === 0 || it === iterations) bar.line(`${iterationText(it, iterations)}  MSE  ${FUNCTIONS.map((fn, f) => `${fn}: ${msesOf(f)}`).join('  ·  ')}`);
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
    const params = ensembles[m].numParameters() / FUNCTIONS.length;
    FUNCTIONS.forEach((fn, f) => measureFit(ctx, fn, name, p.subarray(f * rows, f * rows + sets[f].x.length), sets[f], params));
  }
  await unit.finish();
  group.dispose();
  opt.dispose();
  for (const t of [x, y, mask]) t.dispose();
}

/** A trained model's predictions on its function's points: logged, with the final MSE, the dead flag and its size. */
function measureFit(ctx: RunContext<Config>, fn: string, name: string, p: ArrayLike<number>, data: g.FunctionData, params: number): void {
  let mse = 0;
  for (let i = 0; i < p.length; i++) mse += (p[i] - data.y[i]) ** 2;
  mse /= p.length;
  data.x.forEach((xv, i) => ctx.log('prediction', { function: fn, model: name, x: xv, y: p[i], truth: data.y[i] }));
  ctx.final({ [`${fn}.${name}.mse`]: mse, [`${fn}.${name}.dead`]: isConstant(p), [`${name}.params`]: params });
}

export default experiment;
