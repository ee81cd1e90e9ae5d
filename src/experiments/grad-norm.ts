/**
 * 2-2 Observe the gradient norm during training: the deep 571-parameter model on f1, full batch, Adam on the MSE;
 * every iteration the loss and the L2 norm of the gradient over all parameters. docs/protocol.md 2-2.
 *
 * The task is one training (run 0). Our addition: `runs` trainings from independent initialisations, to see whether
 * the spikes of run 0's gradient norm are generic. Batched (the default), the runs train at once as one MLPEnsemble,
 * each member initialised from the generator its one-by-one model uses; `--one-by-one` trains them one after another.
 */
import * as g from '../index.js';
import { line, panels, thin } from '../run/charts.js';
import { num } from '../run/format.js';
import { FUNCTION_MODELS, mlp } from './models.js';
import { ensembleGroup, singleGroup, total } from './model-group.js';
import { VectorLog } from './readback.js';
import { isConstant, iterationText, median, variance } from './regression.js';
import { iterateWithCheckpoints, resumeTraining, trainingState } from '../run/checkpoint.js';
import type { Experiment, Results, Row, RunContext } from '../run/types.js';

interface Config { iterations: number; lr: number; checkpointEvery: number; readEvery: number; runs: number; oneByOne: boolean }

const WIDTHS = FUNCTION_MODELS.deep;
const MORE_RUNS = 'our addition (not in the protocol or the original): the same training from independent initialisations; run 0 is the task\'s';

const DEFINITION = 'task (protocol 2-2: loss and ‖∇L‖₂ over all 571 parameters, every iteration, before the update)';

const experiment: Experiment<Config> = {
  name: 'grad-norm',
  section: '2-2',
  title: 'Observe the gradient norm during training',
  description: 'loss and total gradient norm of the deep 571-parameter model on f1, every iteration of full-batch Adam',
  quickShows: 'the loss falling by orders of magnitude while the gradient norm spikes and stays noisy, over 4 initialisations',
  data: ['functions'],
  presets: {
    full: { iterations: 20000, lr: 1e-3, checkpointEvery: 1000, readEvery: 250, runs: 8, oneByOne: false },
    quick: { iterations: 2000, lr: 1e-3, checkpointEvery: 500, readEvery: 250, runs: 4, oneByOne: false },
    test: { iterations: 8, lr: 1e-3, checkpointEvery: 4, readEvery: 3, runs: 2, oneByOne: false },
  },
  flags: { epochs: 'iterations', lr: 'lr', oneByOne: 'oneByOne' },

  async run(ctx) {
    const { x, y, data } = g.functionDataset('f1');
    const runs = ctx.config.runs ?? 1; // a run folder from before the extra runs: the task's training only
    // ... and one from before the batched path (no oneByOne setting) continues the way it was started.
    const all = Array.from({ length: runs }, (_, r) => r);
    if (ctx.config.oneByOne === false) await train(ctx, all, x, y);
    else for (const r of all) await train(ctx, [r], x, y);
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
    const figs = [{
      name: 'loss-and-grad-norm', title: 'Loss and gradient norm of the deep model on f1', definition: DEFINITION,
      caption: 'Both on log scales. A dead network (constant output) would flatten at Var(f1) with ‖∇L‖ → 0.',
      spec: panels([
        line(rows, { x: { field: 'iteration', title: 'iteration', tight: true }, y: { field: 'loss', title: 'MSE loss', log: true }, panelTitle: 'loss', height: 220 }),
        line(rows, { x: { field: 'iteration', title: 'iteration', tight: true }, y: { field: 'gradNorm', title: '‖∇L‖₂ (all parameters)', log: true }, panelTitle: 'gradient norm', height: 220 }),
      ], 1),
    }];
    const all = allRuns(r);
    if (all.size > 1) {
      const runRows = thin([...all.values()].flat(), 800, 'run');
      const enc = (field: string, title: string, panelTitle: string) => line(runRows, {
        x: { field: 'iteration', title: 'iteration', tight: true }, y: { field, title, log: true }, color: { field: 'run', title: 'run' }, panelTitle, height: 220,
      });
      figs.push({
        name: 'grad-norm-runs', title: `Loss and gradient norm of ${all.size} trainings from independent initialisations`, definition: MORE_RUNS,
        caption: 'Run 0 is the training above. Both on log scales; each curve thinned to 800 points.',
        spec: panels([enc('loss', 'MSE loss', 'loss'), enc('gradNorm', '‖∇L‖₂ (all parameters)', 'gradient norm')], 1),
      });
    }
    return figs;
  },

  summarize(r: Results) {
    const s = r.series.steps ?? [];
    if (!s.length) return [];
    const norms = s.map((x) => Number(x.gradNorm));
    const tail = norms.slice(Math.floor(norms.length / 2));
    const peak = s.reduce((best, x) => (Number(x.gradNorm) > Number(best.gradNorm) ? x : best), s[0]);
    return [
      `Loss ${num(Number(s[0].loss))} → ${num(Number(s.at(-1)!.loss))} over ${s.length} iterations; dead network: ${r.final.dead ?? '?'}.`,
      `Gradient norm ${num(norms[0])} at the start, largest ${num(Number(peak.gradNorm))} at iteration ${peak.iteration}; over the second half it stays between ${num(Math.min(...tail), 2)} and ${num(Math.max(...tail), 2)}.`,
      ...spikeSummary(r),
      redrawSummary(r),
    ];
  },
};

const initRng = (ctx: RunContext<Config>, run: number, draw: number) =>
  run === 0 ? ctx.rng('deep', 'init', draw) : ctx.rng('deep', `run-${run}`, 'init', draw);

/** The final number that holds how many dead initial draws run `run` skipped (run 0's unprefixed, as before runs). */
const skippedKey = (run: number) => (run === 0 ? 'deadInitsSkipped' : `run-${run}.deadInitsSkipped`);

/**
 * The first draw of run `run` whose network is alive. An init whose network is already dead (constant output: some
 * layer's ReLUs all off) would show nothing but a flat line; 2-3 studies those. This redraw is ours, and it conditions
 * every run on being alive at the start (about 3 % of the deep model's draws are dead there), so it is never silent:
 * the count goes into the results (`deadInitsSkipped`, `run-<r>.deadInitsSkipped`) and the summary says it.
 */
async function liveDraw(ctx: RunContext<Config>, run: number, x: g.Tensor): Promise<number> {
  let draw = 0;
  for (;; draw++) {
    const model = singleGroup(mlp(WIDTHS, initRng(ctx, run, draw)));
    const [pred] = await model.predictions(x);
    model.dispose();
    const dead = isConstant(pred);
    if (!dead) break;
  }
  ctx.final({ [skippedKey(run)]: draw });
  return draw;
}

/** Run 0's rows go to the series `steps` (the task), the others' to `moreRuns`. */
function logSteps(ctx: RunContext<Config>, run: number, first: number, losses: number[], norms: number[]): void {
  losses.forEach((loss, k) => {
    const row = { iteration: first + k, loss, gradNorm: norms[k] };
    if (run === 0) ctx.log('steps', row);
    else ctx.log('moreRuns', { run, ...row });
  });
}

function recordDead(ctx: RunContext<Config>, run: number, dead: boolean): void {
  if (run === 0) ctx.final({ dead: dead ? 'yes: the network outputs a constant' : 'no' });
  else ctx.final({ [`run-${run}.dead`]: dead });
}

/**
 * Trainings `runs` as one resumable unit: all of them at once as one ensemble with one Adam (the default path, unit
 * `deep`), or, one by one, a single run as a group of one (unit `deep` for the task's run, `deep-run-<r>` for others).
 */
async function train(ctx: RunContext<Config>, runs: readonly number[], x: g.Tensor, y: g.Tensor): Promise<void> {
  const { iterations, lr, checkpointEvery, readEvery, oneByOne } = ctx.config;
  const unit = ctx.unit(runs[0] === 0 ? 'deep' : `deep-run-${runs[0]}`);
  if (unit.finished) return;
  const draws: number[] = [];
  for (const r of runs) draws.push(await liveDraw(ctx, r, x));
  const group = oneByOne !== false ? singleGroup(mlp(WIDTHS, initRng(ctx, runs[0], draws[0])))
    : ensembleGroup(new g.MLPEnsemble(runs.length, WIDTHS, { generators: runs.map((r, i) => initRng(ctx, r, draws[i])) }));
  const opt = new g.Adam(group.module.parameters(), { lr });
  const from = await resumeTraining(unit, group.module, opt);
  const log = new VectorLog(readEvery); // per step [2, runs]: the losses, then the gradient norms
  const many = runs.length > 1;
  const name = many ? `deep on f1, ${runs.length} runs` : runs[0] ? `deep on f1, run ${runs[0]}` : 'deep on f1';
  const bar = ctx.progress(many || !runs[0] ? name : `run ${runs[0]}`, iterations);
  if (from === 0) runs.forEach((r, i) => { if (draws[i]) bar.line(`run ${r}: ${draws[i]} initial draw(s) dead at initialisation (constant output), redrawn`); });
  const record = async (it: number) => {
    const v = await log.drain();
    runs.forEach((r, i) => logSteps(ctx, r, it - v.length, v.map((row) => row[i]), v.map((row) => row[runs.length + i])));
    if (!v.length) return;
    const text = `${many ? `run ${runs[0]}: ` : ''}loss ${num(v.at(-1)![0])}  ‖∇L‖ ${num(v.at(-1)![runs.length])}`;
    bar.update(it, text);
    if (it % checkpointEvery === 0 || it === iterations) bar.line(`${iterationText(it, iterations)}  ${name}  ${text}`);
  };
  await iterateWithCheckpoints(unit, {
    from, iterations, checkpointEvery, record, full: () => log.full, state: () => trainingState(group.module, opt),
    step: () => log.push(g.tidy(() => {
      opt.zeroGrad();
      const loss = group.loss(x, y);
      total(loss).backward();
      const norms = group.gradNorms();
      opt.step();
      return g.stack([loss.detach().reshape([-1]), norms], 0);
    })),
  });
  bar.stop();
  const predictions = await group.predictions(x);
  runs.forEach((r, i) => recordDead(ctx, r, isConstant(predictions[i])));
  await unit.finish();
  group.dispose();
  opt.dispose();
}

/**
 * What the redraw of dead initialisations did (ours: the protocol trains one draw, whatever it is): how many draws were
 * dead at the start, per run, so a reader knows run 0 is the first live draw, not an unconditioned one.
 */
function redrawSummary(r: Results): string {
  const runs = Number(r.config.runs ?? 1);
  const skipped = Array.from({ length: runs }, (_, k) => r.final[skippedKey(k)]);
  if (skipped.some((v) => typeof v !== 'number')) return 'Initialisations dead at the start (constant output) are redrawn (ours); this run did not record how many.';
  const n = skipped as number[], total = n.reduce((a, b) => a + b, 0);
  const which = n.flatMap((v, k) => (v ? [`run ${k}: ${v}`] : [])).join(', ');
  return `Initialisations dead at the start (constant output) are redrawn, ours: the protocol trains one draw, and a dead one shows only a flat line at Var(f1). ` +
    (total ? `This run redrew ${total} (${which}); each run trained its first live draw, so it is conditioned on being alive at initialisation.`
      : `This run redrew none: every run trained its first draw.`);
}

/** Every run's rows (run 0 from `steps`), by run. */
function allRuns(r: Results): Map<number, Row[]> {
  const out = new Map<number, Row[]>();
  out.set(0, (r.series.steps ?? []).map((row) => ({ run: 0, ...row })));
  for (const row of r.series.moreRuns ?? []) {
    const k = Number(row.run);
    if (!out.has(k)) out.set(k, []);
    out.get(k)!.push(row);
  }
  return out;
}

/**
 * How generic the spike pattern is. A spike: an iteration whose gradient norm exceeds 3× the median norm of the
 * preceding block of `w` iterations (w = 50, fewer for short runs), so the steady descent at the start does not count;
 * spikes closer than w iterations are one event. Runs that died (constant output, ‖∇L‖ → 0) are left out.
 */
function spikeSummary(r: Results): string[] {
  const runs = allRuns(r);
  if (runs.size < 2) return [];
  const window = (n: number) => Math.max(2, Math.min(50, Math.floor(n / 10)));
  const died = (run: number) => (run === 0 ? String(r.final.dead ?? '').startsWith('yes') : r.final[`run-${run}.dead`] === true);
  const stats = [...runs.entries()].filter(([run]) => !died(run)).map(([run, rows]) => {
    const norms = rows.map((x) => Number(x.gradNorm));
    const w = window(norms.length);
    let events = 0, last = -Infinity, worst = 0, worstAt = -1;
    for (let b = w; b < norms.length; b += w) {
      const ref = median(norms.slice(b - w, b));
      for (let t = b; t < Math.min(b + w, norms.length); t++) {
        const ratio = norms[t] / ref;
        if (ratio > worst) { worst = ratio; worstAt = Number(rows[t].iteration); }
        if (ratio > 3) { if (t - last >= w) events++; last = t; }
      }
    }
    return { run, events, worst, worstAt };
  });
  const left = runs.size - stats.length;
  const spiky = stats.filter((s) => s.events > 0).length;
  const list = stats.map((s) => `run ${s.run}: ${s.events} (largest ${s.worst.toFixed(1)}× at iteration ${s.worstAt})`).join('; ');
  const verdict = !stats.length ? ''
    : spiky === stats.length ? ` Every ${left ? 'live ' : ''}run spikes: the pattern is generic, not a feature of one initialisation.`
      : spiky === 0 ? ' No run spikes by this measure.'
        : ` ${spiky} of ${stats.length} runs spike: spikes come with some initialisations and not others.`;
  const w = window(runs.get(0)!.length);
  return [`Our addition, ${runs.size} independent initialisations${left ? ` (${left} died during training and ${left === 1 ? 'is' : 'are'} left out)` : ''}: ` +
    `spikes (‖∇L‖ above 3× the median of the preceding ${w} iterations) per run — ${list || 'none left'}.${verdict}`];
}

export default experiment;
