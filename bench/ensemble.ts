/**
 * Issue 8's benchmark: the minimal-ratio workload (Adam phase, gradient-norm phase by HVP, full Hessian) for N deep
 * 571-parameter MLPs on f1, batched in one MLPEnsemble versus one model after another.
 *
 *   npm run build && node scripts/run-with-gpu.mjs dist/bench/ensemble.js [--models 100] [--adam-steps 200]
 *       [--gn-steps 20] [--points 500] [--sample 4] [--device webgpu|cpu] [--hessian]
 *
 * One by one is linear in N, so it is timed on `--sample` models and scaled to N (stated in the output); the batched
 * run trains all N. Losses are read back every 50 steps, as the experiments do. Prints one table.
 */
import { parseArgs } from 'node:util';
import * as g from '../src/index.js';

const { values: opt } = parseArgs({
  options: {
    models: { type: 'string', default: '100' },
    'adam-steps': { type: 'string', default: '200' },
    'gn-steps': { type: 'string', default: '20' },
    points: { type: 'string', default: '500' },
    sample: { type: 'string', default: '4' },
    device: { type: 'string' },
    hessian: { type: 'boolean', default: false },
  },
});
const N = Number(opt.models), ADAM = Number(opt['adam-steps']), GN = Number(opt['gn-steps']);
const POINTS = Number(opt.points), SAMPLE = Math.min(Number(opt.sample), N);
const device = (opt.device ?? g.getDevice()) as g.DeviceName;
const SIZES = [1, 5, 10, 10, 10, 10, 10, 5, 1];
const READ_EVERY = 50;

function f1(device: g.DeviceName) {
  const xs = Float64Array.from({ length: POINTS }, (_, i) => -5 + (10 * i) / (POINTS - 1));
  const ys = xs.map((x) => Math.sin(5 * Math.PI * x) / (5 * Math.PI * x));
  return { x: g.tensor(xs, { shape: [POINTS, 1], device, dtype: 'float32' }), y: g.tensor(ys, { shape: [POINTS, 1], device, dtype: 'float32' }) };
}

/** Runs the three phases for `count` models held in one ensemble; returns seconds per phase. */
async function run(count: number, seed0: number): Promise<number[]> {
  const { x, y } = f1(device);
  const ens = new g.MLPEnsemble(count, SIZES, { device, generators: Array.from({ length: count }, (_, i) => new g.Generator(seed0 + i)) });
  const params = ens.parameters();
  const lossOf = () => g.ensembleMSE(ens.forward(x), y).sum();
  const times: number[] = [];
  let t0 = performance.now();
  const adam = new g.Adam(params, { lr: 1e-3 });
  for (let s = 0; s < ADAM; s++) {
    const loss = g.tidy(() => { adam.zeroGrad(); const l = lossOf(); l.backward(); adam.step(); return l.detach(); });
    if (s % READ_EVERY === READ_EVERY - 1 || s === ADAM - 1) await loss.item();
    loss.dispose();
  }
  adam.zeroGrad();
  times.push((performance.now() - t0) / 1000);
  // gradient-norm phase: minimise ½‖∇L‖² (its gradient is H·∇L, one HVP)
  t0 = performance.now();
  const adam2 = new g.Adam(params, { lr: 1e-3 });
  for (let s = 0; s < GN; s++) {
    const gn = g.tidy(() => {
      const grads = g.grad(lossOf(), params, { createGraph: true });
      const half = g.perModelNorm(grads, { squared: true }).mul(0.5).sum();
      adam2.zeroGrad();
      half.backward();
      adam2.step();
      return half.detach();
    });
    if (s % READ_EVERY === READ_EVERY - 1 || s === GN - 1) await gn.item();
    gn.dispose();
  }
  adam2.zeroGrad();
  times.push((performance.now() - t0) / 1000);
  if (opt.hessian) {
    t0 = performance.now();
    const H = g.ensembleHessian(lossOf, params);
    await H.slice(0, 0, 1).sum().item();
    H.dispose();
    times.push((performance.now() - t0) / 1000);
  }
  await g.sync();
  ens.dispose(); adam.dispose(); adam2.dispose(); x.dispose(); y.dispose();
  return times;
}

console.log(`# ensemble benchmark — ${g.deviceInfo(device)}`);
console.log(`# ${N} deep MLPs (571 params) on f1 (${POINTS} points): ${ADAM} Adam steps, ${GN} gradient-norm steps` +
  `${opt.hessian ? ', full Hessian' : ''}; one-by-one timed on ${SAMPLE} models and scaled ×${(N / SAMPLE).toFixed(1)}`);
await run(1, 999); // warm-up: compiles every pipeline
const batched = await run(N, 0);
const single: number[] = batched.map(() => 0);
for (let i = 0; i < SAMPLE; i++) (await run(1, i)).forEach((t, k) => { single[k] += t; });
const scaled = single.map((t) => (t * N) / SAMPLE);
const phases = ['Adam phase', 'gradient-norm phase', ...(opt.hessian ? ['Hessian'] : [])];
console.log('| phase | batched (s) | one by one (s, scaled) | speed-up |');
console.log('|---|---:|---:|---:|');
phases.forEach((p, k) => console.log(`| ${p} | ${batched[k].toFixed(2)} | ${scaled[k].toFixed(2)} | ${(scaled[k] / batched[k]).toFixed(1)}× |`));
const tb = batched.reduce((a, b) => a + b), ts = scaled.reduce((a, b) => a + b);
console.log(`| total | ${tb.toFixed(2)} | ${ts.toFixed(2)} | ${(ts / tb).toFixed(1)}× |`);
g.shutdown();
