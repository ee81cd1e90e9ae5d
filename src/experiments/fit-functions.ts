/**
 * 1-1 Deep vs shallow: simulate a function. Three MLPs with about the same number of parameters (deep 571, medium
 * 572, shallow 571) fit f1 = sin(5πx)/(5πx) and f2 = sign(sin(5πx)) with full-batch Adam on the MSE; the loss is
 * recorded every iteration before the update. PROTOCOL.md 1-1.
 */
import * as g from '../index.js';
import { line, thin } from '../report/charts.js';
import { FUNCTION_MODELS, ScalarLog, isConstant, mlp, regressionStep, resumeTraining, trainingState } from './common.js';
import type { Experiment, Results, Row } from './types.js';

interface Config { iterations: number; lr: number; checkpointEvery: number; readEvery: number }

const FUNCTIONS = ['f1', 'f2'] as const;
const MODELS = Object.keys(FUNCTION_MODELS) as (keyof typeof FUNCTION_MODELS)[];
const DEFINITION = 'task (PROTOCOL 1-1: deep = 8 Linear layers, MSE before each update; the seed\'s swapped model labels corrected)';

const experiment: Experiment<Config> = {
  name: 'fit-functions',
  section: '1-1',
  title: 'Deep vs shallow: simulate a function',
  description: 'deep/medium/shallow MLPs of ~571 parameters fit sin(5πx)/(5πx) and sign(sin(5πx)); full-batch Adam, MSE',
  data: ['functions'],
  presets: {
    full: { iterations: 20000, lr: 1e-3, checkpointEvery: 1000, readEvery: 250 },
    quick: { iterations: 1200, lr: 1e-3, checkpointEvery: 400, readEvery: 200 },
    test: { iterations: 8, lr: 1e-3, checkpointEvery: 4, readEvery: 3 },
  },
  flags: { epochs: 'iterations', lr: 'lr' },

  async run(ctx) {
    const { iterations, lr, checkpointEvery, readEvery } = ctx.config;
    for (const fn of FUNCTIONS) {
      const { x, y, data } = g.functionDataset(fn);
      for (const name of MODELS) {
        const unit = ctx.unit(`${fn}-${name}`);
        if (unit.finished) continue;
        const model = mlp(FUNCTION_MODELS[name], ctx.rng(fn, name, 'init'));
        const opt = new g.Adam(model.parameters(), { lr });
        let it = await resumeTraining(unit, model, opt);
        const losses = new ScalarLog(readEvery);
        const bar = ctx.progress(`${fn} ${name}`, iterations);
        const record = async () => {
          const values = await losses.drain();
          values.forEach((mse, k) => ctx.log('loss', { function: fn, model: name, iteration: it - values.length + k, mse }));
          bar.update(it, values.length ? `MSE ${values[values.length - 1].toExponential(2)}` : '');
        };
        while (it < iterations) {
          losses.push(regressionStep(model, opt, x, y).loss);
          it++;
          if (losses.full) await record();
          if (it % checkpointEvery === 0 || it === iterations) {
            await record();
            await unit.epochDone(it, trainingState(model, opt));
          }
        }
        bar.stop();

        const pred = g.noGrad(() => model.forward(x));
        const p = await pred.data();
        pred.dispose();
        let mse = 0;
        p.forEach((v, i) => { mse += (v - data.y[i]) ** 2; });
        mse /= p.length;
        data.x.forEach((xv, i) => ctx.log('prediction', { function: fn, model: name, x: xv, y: p[i], truth: data.y[i] }));
        ctx.final({ [`${fn}.${name}.mse`]: mse, [`${fn}.${name}.dead`]: isConstant(p), [`${name}.params`]: model.numParameters() });
        await unit.finish();
        model.dispose();
        opt.dispose();
      }
      x.dispose();
      y.dispose();
    }
  },

  figures(r) {
    const figs = [];
    for (const fn of FUNCTIONS) {
      const loss = (r.series.loss ?? []).filter((row) => row.function === fn);
      figs.push({
        name: `${fn}-loss`, title: `${fn}: training loss of three ~571-parameter models`, definition: DEFINITION,
        caption: 'Mean squared error over the full batch, before each Adam update; log scale.',
        spec: line(thin(loss, 1500, 'model'), {
          x: { field: 'iteration', title: 'iteration' }, y: { field: 'mse', title: 'MSE (mean)', log: true },
          color: { field: 'model', title: 'model', sort: MODELS, colors: ['#4c78a8', '#f58518', '#54a24b'] },
        }),
      });
      const pred = (r.series.prediction ?? []).filter((row) => row.function === fn);
      const truth: Row[] = pred.filter((row) => row.model === MODELS[0]).map((row) => ({ ...row, model: 'ground truth', y: row.truth }));
      figs.push({
        name: `${fn}-prediction`, title: `${fn}: predictions after training vs ground truth`, definition: DEFINITION,
        caption: 'Each model labelled by its own name (the seed report swapped models 2 and 3).',
        spec: line([...truth, ...pred], {
          x: { field: 'x', title: 'x' }, y: { field: 'y', title: 'f(x)' },
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

export default experiment;
