/**
 * 2-2 Observe the gradient norm during training: the deep 571-parameter model on f1, full batch, Adam on the MSE;
 * every iteration the loss and the L2 norm of the gradient over all parameters. PROTOCOL.md 2-2.
 */
import * as g from '../index.js';
import { line, panels, thin } from '../report/charts.js';
import { FUNCTION_MODELS, ScalarLog, isConstant, mlp, regressionStep, resumeTraining, trainingState, variance } from './common.js';
import type { Experiment, Results } from './types.js';

interface Config { iterations: number; lr: number; checkpointEvery: number; readEvery: number }

const DEFINITION = 'task (PROTOCOL 2-2: loss and ‖∇L‖₂ over all 571 parameters, every iteration, before the update)';

const experiment: Experiment<Config> = {
  name: 'grad-norm',
  section: '2-2',
  title: 'Observe the gradient norm during training',
  description: 'loss and total gradient norm of the deep 571-parameter model on f1, every iteration of full-batch Adam',
  data: ['functions'],
  presets: {
    full: { iterations: 20000, lr: 1e-3, checkpointEvery: 1000, readEvery: 250 },
    quick: { iterations: 2000, lr: 1e-3, checkpointEvery: 500, readEvery: 250 },
    test: { iterations: 8, lr: 1e-3, checkpointEvery: 4, readEvery: 3 },
  },
  flags: { epochs: 'iterations', lr: 'lr' },

  async run(ctx) {
    const { iterations, lr, checkpointEvery, readEvery } = ctx.config;
    const { x, y, data } = g.functionDataset('f1');
    const unit = ctx.unit('deep');
    if (!unit.finished) {
      // An init whose network is already dead (constant output: some layer's ReLUs all off) would show nothing but a
      // flat line; 2-3 studies those. Draw until the network is alive, and say how many draws were dead.
      let model = mlp(FUNCTION_MODELS.deep, ctx.rng('deep', 'init', 0));
      let deadDraws = 0;
      while (await outputsConstant(model, x)) {
        model.dispose();
        model = mlp(FUNCTION_MODELS.deep, ctx.rng('deep', 'init', ++deadDraws));
      }
      ctx.final({ deadInitsSkipped: deadDraws });
      if (deadDraws) ctx.note(`${deadDraws} initial draw(s) gave a network that was dead at initialisation (constant output); the first live draw was trained.`);
      const opt = new g.Adam(model.parameters(), { lr });
      let it = await resumeTraining(unit, model, opt);
      const losses = new ScalarLog(readEvery);
      const norms = new ScalarLog(readEvery);
      const bar = ctx.progress('deep on f1', iterations);
      const record = async () => {
        const [l, n] = [await losses.drain(), await norms.drain()];
        l.forEach((loss, k) => ctx.log('steps', { iteration: it - l.length + k, loss, gradNorm: n[k] }));
        bar.update(it, l.length ? `loss ${l[l.length - 1].toExponential(2)} ‖∇L‖ ${n[n.length - 1].toExponential(2)}` : '');
      };
      while (it < iterations) {
        const { loss, gradNorm } = regressionStep(model, opt, x, y, true);
        losses.push(loss);
        norms.push(gradNorm!);
        it++;
        if (losses.full) await record();
        if (it % checkpointEvery === 0 || it === iterations) {
          await record();
          await unit.epochDone(it, trainingState(model, opt));
        }
      }
      bar.stop();
      const dead = await outputsConstant(model, x);
      ctx.final({ dead: dead ? 'yes: the network outputs a constant' : 'no' });
      await unit.finish();
      model.dispose();
      opt.dispose();
    }
    const steps = ctx.series('steps');
    const at = (i: number) => steps.find((s) => s.iteration === i);
    ctx.final({
      'loss.start': at(0)?.loss ?? null, 'loss.it500': at(500)?.loss ?? null, 'loss.final': steps.at(-1)?.loss ?? null,
      'gradNorm.start': at(0)?.gradNorm ?? null, 'gradNorm.final': steps.at(-1)?.gradNorm ?? null, varF1: variance(data.y),
    });
    x.dispose();
    y.dispose();
  },

  figures(r) {
    const rows = thin(r.series.steps ?? [], 2000);
    return [{
      name: 'loss-and-grad-norm', title: 'Loss and gradient norm of the deep model on f1', definition: DEFINITION,
      caption: 'Both on log scales. A dead network (constant output) would flatten at Var(f1) with ‖∇L‖ → 0.',
      spec: panels([
        line(rows, { x: { field: 'iteration', title: 'iteration' }, y: { field: 'loss', title: 'MSE loss', log: true }, panelTitle: 'loss', height: 220 }),
        line(rows, { x: { field: 'iteration', title: 'iteration' }, y: { field: 'gradNorm', title: '‖∇L‖₂ (all parameters)', log: true }, panelTitle: 'gradient norm', height: 220 }),
      ], 1),
    }];
  },

  summarize(r: Results) {
    const s = r.series.steps ?? [];
    if (!s.length) return [];
    const norms = s.map((x) => Number(x.gradNorm));
    const tail = norms.slice(Math.floor(norms.length / 2));
    const peak = s.reduce((best, x) => (Number(x.gradNorm) > Number(best.gradNorm) ? x : best), s[0]);
    return [
      `Loss ${Number(s[0].loss).toExponential(2)} → ${Number(s.at(-1)!.loss).toExponential(2)} over ${s.length} iterations; dead network: ${r.final.dead ?? '?'}.`,
      `Gradient norm ${norms[0].toFixed(3)} at the start, largest ${Number(peak.gradNorm).toFixed(3)} at iteration ${peak.iteration}; over the second half it stays between ${Math.min(...tail).toExponential(1)} and ${Math.max(...tail).toExponential(1)}.`,
    ];
  },
};

async function outputsConstant(model: g.Module, x: g.Tensor): Promise<boolean> {
  const pred = g.noGrad(() => model.forward(x));
  const dead = isConstant(await pred.data());
  pred.dispose();
  return dead;
}

export default experiment;
