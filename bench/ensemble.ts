/**
 * Issue 8's benchmark: the minimal-ratio workload for N deep 571-parameter MLPs on f1 (500 points), batched in one
 * MLPEnsemble (what `gpugrad run minimal-ratio` does) versus one Sequential after another (`--one-by-one`), per phase:
 *   Adam — a full-batch Adam step on the MSE;
 *   ½‖∇L‖² — a step on the gradient norm (its gradient H·∇L: a double backward);
 *   Hessian — 571×571 Hessians in float64 on the CPU: one network's in the main thread (one by one), or a batch of
 *             networks' spread over worker threads, one per core (what the batched experiment does).
 * Then the projection to the full preset (100 trainings × 1 000 Adam + 2 000 ½‖∇L‖² steps + 100 Hessians; no early
 * stop assumed), and with `--experiment` the experiment itself, end to end, both ways.
 *
 *   npm run build && node scripts/run-with-gpu.mjs dist/bench/ensemble.js [--models 100] [--adam-steps 30]
 *       [--gn-steps 6] [--sample 3] [--reps 3] [--no-hessian] [--experiment "trainings=10 adamSteps=100 gradSteps=20"]
 *
 * One by one is linear in N, so it is timed on `--sample` networks and scaled to N (said in the output); the batched
 * run trains all N. Times are medians over `--reps` repetitions, batched and one-by-one interleaved. Losses are read
 * back every 50 steps, as the experiment does.
 */
import { parseArgs } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as g from '../src/index.js';
import { FUNCTION_MODELS, mlp } from '../src/experiments/models.js';

const { values: opt } = parseArgs({
  options: {
    models: { type: 'string', default: '100' },
    'adam-steps': { type: 'string', default: '30' },
    'gn-steps': { type: 'string', default: '6' },
    sample: { type: 'string', default: '3' },
    reps: { type: 'string', default: '3' },
    'no-hessian': { type: 'boolean', default: false },
    experiment: { type: 'string' },
  },
});
const N = Number(opt.models), ADAM_STEPS = Number(opt['adam-steps']), GN_STEPS = Number(opt['gn-steps']);
const SAMPLE = Math.min(Number(opt.sample), N), REPS = Number(opt.reps);
const SIZES = FUNCTION_MODELS.deep;
const READ_EVERY = 50;
const FULL = { trainings: 100, adam: 1000, gn: 2000 };

const f1 = g.functionDataset('f1');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Seconds per step of each phase for `count` networks trained together (batched) or one after another. */
async function phases(count: number, batched: boolean, ADAM = ADAM_STEPS, GN = GN_STEPS): Promise<{ adam: number; gn: number }> {
  const { x, y } = f1;
  const families: { params: g.Tensor[]; loss: () => g.Tensor; perModelSq: (gr: g.Tensor[]) => g.Tensor; dispose: () => void }[] = [];
  if (batched) {
    const ens = new g.MLPEnsemble(count, SIZES, { generators: Array.from({ length: count }, (_, i) => new g.Generator(i)) });
    families.push({ params: ens.parameters(), loss: () => g.ensembleMSE(ens.forward(x), y).sum(), perModelSq: (gr) => g.perModelNorm(gr, { squared: true }).sum(), dispose: () => ens.dispose() });
  } else {
    for (let i = 0; i < count; i++) {
      const m = mlp(SIZES, new g.Generator(i));
      families.push({ params: m.parameters(), loss: () => g.F.mseLoss(m.forward(x), y), perModelSq: (gr) => gr.map((t) => t.square().sum()).reduce((a, b) => a.add(b)), dispose: () => m.dispose() });
    }
  }
  let adam = 0, gn = 0;
  for (const f of families) {
    const opt1 = new g.Adam(f.params, { lr: 1e-3 });
    let t0 = performance.now();
    for (let s = 0; s < ADAM; s++) {
      const l = g.tidy(() => { opt1.zeroGrad(); const l = f.loss(); l.backward(); opt1.step(); return l.detach(); });
      if (s % READ_EVERY === READ_EVERY - 1 || s === ADAM - 1) await l.item();
      l.dispose();
    }
    adam += (performance.now() - t0) / 1000;
    opt1.zeroGrad(); opt1.dispose();
    const opt2 = new g.Adam(f.params, { lr: 1e-4 });
    t0 = performance.now();
    for (let s = 0; s < GN; s++) {
      const h = g.tidy(() => {
        opt2.zeroGrad();
        const half = f.perModelSq(g.grad(f.loss(), f.params, { createGraph: true })).mul(0.5);
        half.backward(); opt2.step();
        return half.detach();
      });
      if (s % READ_EVERY === READ_EVERY - 1 || s === GN - 1) await h.item();
      h.dispose();
    }
    gn += (performance.now() - t0) / 1000;
    opt2.zeroGrad(); opt2.dispose();
    f.dispose();
  }
  return { adam: adam / ADAM, gn: gn / GN };
}

/** Networks' parameters as host values (float64), as the experiment hands them to phase 3. */
async function hostNets(k: number): Promise<Record<string, Float64Array>[]> {
  return Promise.all(Array.from({ length: k }, async (_, i) => {
    const m = mlp(SIZES, new g.Generator(i), { device: 'cpu', dtype: 'float64' });
    const p: Record<string, Float64Array> = {};
    for (const [key, t] of m.namedParameters()) p[key] = Float64Array.from(await t.data());
    m.dispose();
    return p;
  }));
}

/** Seconds for one network's Hessian and spectrum in float64 in the main thread, as the one-by-one experiment. */
async function hessianSeconds(): Promise<number> {
  const cpu = g.functionDataset('f1', { device: 'cpu', dtype: 'float64' });
  const [p] = await hostNets(1);
  const t0 = performance.now();
  await g.hessianSpectra(FUNCTION_MODELS.deep, [p], cpu.x, cpu.y, 1e-6);
  const t = (performance.now() - t0) / 1000;
  cpu.x.dispose(); cpu.y.dispose();
  return t;
}

/**
 * Seconds per network for `k` networks' Hessians as the batched experiment computes them: one network per job,
 * spread over a HessianPool's worker threads (one per core).
 */
async function pooledHessianSeconds(k: number): Promise<{ perNetwork: number; workers: number }> {
  const cpu = g.functionDataset('f1', { device: 'cpu', dtype: 'float64' });
  const nets = await hostNets(k);
  const pool = new g.HessianPool(FUNCTION_MODELS.deep, cpu.x, cpu.y, { tauRel: 1e-6 });
  await pool.spectra([nets[0]]); // the workers' start (loading the library) is paid once per experiment, not per network
  const t0 = performance.now();
  await Promise.all(nets.map((p) => pool.spectra([p])));
  const t = (performance.now() - t0) / 1000 / k;
  const workers = pool.workers;
  await pool.close();
  cpu.x.dispose(); cpu.y.dispose();
  return { perNetwork: t, workers };
}

const fmt = (s: number) => (s >= 100 ? `${s.toFixed(0)} s` : s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(1)} ms`);
const fmtT = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);

console.log(`# ensemble benchmark (issue 8) — ${g.deviceInfo()}`);
console.log(`# ${N} deep MLPs (571 parameters) on f1 (500 points); ` +
  `${ADAM_STEPS} Adam and ${GN_STEPS} ½‖∇L‖² steps per repetition; one by one timed on ${SAMPLE} networks and scaled ×${(N / SAMPLE).toFixed(1)}; median of ${REPS} interleaved repetitions`);
// warm-up: every pipeline compiled (kernel variants depend on the sizes, so at the timed sizes)
await phases(N, true, 2, 2); await phases(1, false, 2, 2);
const B: { adam: number; gn: number }[] = [], S: { adam: number; gn: number }[] = [];
for (let r = 0; r < REPS; r++) {
  B.push(await phases(N, true));
  const s = await phases(SAMPLE, false);
  S.push({ adam: (s.adam * N) / SAMPLE, gn: (s.gn * N) / SAMPLE });
  // each repetition as it ends, so that a run cut short (a time limit) still leaves numbers
  const [bb, ss] = [B[B.length - 1], S[S.length - 1]];
  console.log(`# repetition ${r + 1}: Adam ${fmt(bb.adam)} batched vs ${fmt(ss.adam)} one by one (${(ss.adam / bb.adam).toFixed(1)}×); ` +
    `½‖∇L‖² ${fmt(bb.gn)} vs ${fmt(ss.gn)} (${(ss.gn / bb.gn).toFixed(1)}×)`);
}
const b = { adam: median(B.map((t) => t.adam)), gn: median(B.map((t) => t.gn)) };
const s = { adam: median(S.map((t) => t.adam)), gn: median(S.map((t) => t.gn)) };
const h = opt['no-hessian'] ? NaN : await hessianSeconds();
const pooled = opt['no-hessian'] ? { perNetwork: NaN, workers: 0 } : await pooledHessianSeconds(Math.max(4, 2 * availableParallelism()));
const hb = pooled.perNetwork;
console.log('');
console.log(`| per step, all ${N} networks | batched | one by one | speed-up | per network-step, batched |`);
console.log('|---|---:|---:|---:|---:|');
console.log(`| Adam step | ${fmt(b.adam)} | ${fmt(s.adam)} | ${(s.adam / b.adam).toFixed(1)}× | ${fmt(b.adam / N)} |`);
console.log(`| ½‖∇L‖² step | ${fmt(b.gn)} | ${fmt(s.gn)} | ${(s.gn / b.gn).toFixed(1)}× | ${fmt(b.gn / N)} |`);
if (!Number.isNaN(h)) console.log(`| Hessian per network (float64, CPU; batched: ${pooled.workers || 'no'} worker threads) | ${fmt(hb)} | ${fmt(h)} | ${(h / hb).toFixed(1)}× | |`);
if (N === FULL.trainings) {
  const train = (t: { adam: number; gn: number }) => FULL.adam * t.adam + FULL.gn * t.gn;
  const hess = Number.isNaN(h) ? 0 : FULL.trainings * h, hessB = Number.isNaN(hb) ? 0 : FULL.trainings * hb;
  console.log('');
  console.log(`Projected full preset (${FULL.trainings} trainings, ${FULL.adam} Adam + ${FULL.gn} ½‖∇L‖² steps each, no early stop):`);
  console.log(`  phases 1-2: batched ${fmtT(train(b))}, one by one ${fmtT(train(s))} (${(train(s) / train(b)).toFixed(1)}×)`);
  if (hess) console.log(`  with the Hessians: batched ${fmtT(train(b) + hessB)}, one by one ${fmtT(train(s) + hess)} (${((train(s) + hess) / (train(b) + hessB)).toFixed(1)}×)`);
  console.log(`  PyTorch one by one on this machine's CPU at the issue's 1.14 ms per MLP step (not measured here): ` +
    `${fmtT(FULL.trainings * FULL.adam * 1.14e-3)} for the Adam phases`);
}

if (opt.experiment) {
  const { runExperiment } = await import('../src/cli/run.js');
  const { readResults } = await import('../src/run/folder.js');
  const { loadExperiment } = await import('../src/experiments/index.js');
  const set = opt.experiment.split(/\s+/).filter(Boolean);
  const root = mkdtempSync(join(tmpdir(), 'gpugrad-bench-ensemble-'));
  const e = await loadExperiment('minimal-ratio');
  console.log('');
  console.log(`gpugrad run minimal-ratio --preset quick ${set.map((kv) => `--set ${kv}`).join(' ')} [--one-by-one], end to end:`);
  console.log('| mode | wall time | Adam phase | ½‖∇L‖² phase | Hessians |');
  console.log('|---|---:|---:|---:|---:|');
  for (const oneByOne of [false, true]) {
    const out = join(root, oneByOne ? 'one-by-one' : 'batched');
    process.env.GPUGRAD_QUIET = '1';
    await runExperiment(e, { seed: 0, runsDir: root, out, resume: false, preset: 'quick', oneByOne, set }, g.deviceInfo());
    const r = readResults(out);
    const f = (k: string) => fmtT(Number(r.final[k]));
    console.log(`| ${oneByOne ? 'one by one' : 'batched'} | ${fmtT(r.wallTimeS)} | ${f('seconds.adam')} | ${f('seconds.gradNorm')} | ${f('seconds.hessian')} |`);
  }
}
g.shutdown();
