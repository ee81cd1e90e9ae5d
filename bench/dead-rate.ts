/**
 * Why did our dead-network rate (11.0 % of 500 deep-MLP trainings after 1 000 Adam steps) come out below an independent
 * PyTorch run's (15.6 %)? Issue 15, science item 7. (Measured answer, bench/RESULTS.md: chance. From the same initial
 * values both libraries kill exactly the same networks; over independent draws the rates do not differ significantly.)
 * This script counts dead networks — the experiment's own test
 * (src/experiments/regression.ts isConstant: a constant output over f1's 500 points) — at initialisation and every
 * --every Adam steps, for batches of N networks trained at once (MLPEnsemble; PyTorch: bench/torch_dead_rate.py,
 * stacked weights and baddbmm), and compares the two libraries one variable at a time:
 *
 *   chance     each seed's batch on both sides, own draws: rates with Wilson 95 % intervals, pooled two-proportion test
 *   identical  the same initial values on both sides (PyTorch's nn.Linear draws trained by us, ours trained by
 *              PyTorch): per-network dead/alive agreement isolates optimiser and arithmetic from the draws
 *   float64    both sides in float64 from PyTorch's draws, against their float32 trainings
 *   adam       PyTorch with ε added TF/Keras-style (to √v before the bias correction)
 *   data       PyTorch trained on our f1 (x, y as our float32 tensors) instead of its own
 *
 *   node dist/bench/dead-rate.js [--n 500] [--seeds 0,1,2,3] [--steps 1000] [--every 100] [--device wasm]
 *     [--only chance,identical,float64,adam,data] [--side ours|torch] [--json out.json] [--report]
 *
 * With --json the outcomes are kept in that file as each batch finishes and reused by later calls; --report only
 * prints the tables from it; --side runs one side's batches only (two such calls can share the file). --draws only
 * checks our generator's first numbers after seeding, as the trainings seed it: uniform at each position
 * (Kolmogorov–Smirnov) and uncorrelated between positions, over 200 000 seeds (a second; no training).
 *
 * Our batch of seed S draws member i from the generator the minimal-ratio experiment's training i uses at --seed S
 * (ctx.rng('training', i, 'init')), so seed 0's batch is that run's Adam phase at --set trainings=N. PyTorch's batch of
 * seed S is torch.manual_seed(S) and N nn.Sequential's built in turn. Timings in the output are wall seconds.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as g from '../src/index.js';
import { FUNCTION_MODELS } from '../src/experiments/models.js';
import { isConstant, variance } from '../src/experiments/regression.js';
import { deriveSeed } from '../src/run/context.js';

const DEEP = FUNCTION_MODELS.deep;

interface Args { n: number; seeds: number[]; steps: number; every: number; device: g.DeviceName; only: Set<string>; json?: string; reportOnly: boolean; draws: boolean; sides: Spec['side'][] }

function parseArgs(argv: string[]): Args {
  const a: Args = { n: 500, seeds: [0, 1, 2, 3], steps: 1000, every: 100, device: 'wasm', only: new Set(['chance', 'identical', 'float64', 'adam', 'data']), reportOnly: false, draws: false, sides: ['ours', 'torch'] };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--report') { a.reportOnly = true; i--; } else if (k === '--draws') { a.draws = true; i--; } else if (k === '--n') a.n = Number(v);
    else if (k === '--seeds') a.seeds = v.split(',').map(Number);
    else if (k === '--steps') a.steps = Number(v);
    else if (k === '--every') a.every = Number(v);
    else if (k === '--device') a.device = v as g.DeviceName;
    else if (k === '--only') a.only = new Set(v.split(','));
    else if (k === '--json') a.json = v;
    else if (k === '--side') a.sides = [v as Spec['side']];
    else throw new Error(`dead-rate: unknown option ${k}`);
  }
  return a;
}

/** One batch's outcome: the dead networks' indices at each counted step, and those whose final loss ≥ 0.99·Var(f1). */
interface Outcome { dead: Record<string, number[]>; nearDead: number[]; seconds: number; note?: string }

/** How a batch starts and trains. */
interface Spec { side: 'ours' | 'torch'; init: { seed: number } | { file: string }; dtype?: 'float32' | 'float64'; adam?: 'torch' | 'keras'; eps?: number; data?: string; dumpInit?: string }

/** Our side: the batch as one MLPEnsemble, Adam on the sum of the per-network MSEs (each network's gradient its own). */
async function ours(a: Args, spec: Spec): Promise<Outcome> {
  const t0 = performance.now();
  const dtype = spec.dtype ?? 'float32';
  const opts = { device: a.device, dtype };
  const generators = 'seed' in spec.init ? Array.from({ length: a.n }, (_, i) => new g.Generator(deriveSeed((spec.init as { seed: number }).seed, ['training', i, 'init']))) : undefined;
  const ens = new g.MLPEnsemble(a.n, DEEP, { ...opts, generators });
  if ('file' in spec.init) {
    const loaded = await g.load(spec.init.file, opts);
    ens.loadStateDict(loaded);
    for (const t of Object.values(loaded)) t.dispose();
  }
  if (spec.dumpInit) await g.save(ens.stateDict(), spec.dumpInit);
  const { x, y } = g.functionDataset('f1', opts);
  const adam = new g.Adam(ens.parameters(), { lr: 1e-3, eps: spec.eps ?? 1e-8 });
  const outputs = async () => {
    const pred = g.noGrad(() => ens.forward(x));
    const host = await pred.data();
    pred.dispose();
    return Array.from({ length: a.n }, (_, m) => host.subarray(m * x.shape[0], (m + 1) * x.shape[0]));
  };
  const dead: Record<string, number[]> = {};
  for (let s = 0; s <= a.steps; s++) {
    if (s % a.every === 0 || s === a.steps) dead[s] = (await outputs()).flatMap((p, m) => (isConstant(p) ? [m] : []));
    if (s === a.steps) break;
    g.tidy(() => { adam.zeroGrad(); g.ensembleMSE(ens.forward(x), y).sum().backward(); adam.step(); });
    // let the event loop run now and then: PyTorch's batch, in its own process, reports through it
    if (s % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  const losses = g.noGrad(() => g.ensembleMSE(ens.forward(x), y));
  const l = await losses.data();
  const varF1 = variance(await y.data());
  for (const t of [losses, x, y]) t.dispose();
  adam.dispose();
  ens.dispose();
  return { dead, nearDead: Array.from(l).flatMap((v, m) => (v >= 0.99 * varF1 ? [m] : [])), seconds: (performance.now() - t0) / 1000 };
}

const script = join(dirname(fileURLToPath(import.meta.url)), '../../bench/torch_dead_rate.py');

/** PyTorch's side: one call of bench/torch_dead_rate.py. */
function torch(a: Args, spec: Spec): Promise<Outcome> {
  const args = [script, '--n', String(a.n), '--steps', String(a.steps), '--every', String(a.every), '--dtype', spec.dtype ?? 'float32',
    '--adam', spec.adam ?? 'torch', '--eps', String(spec.eps ?? 1e-8)];
  if ('seed' in spec.init) args.push('--seed', String(spec.init.seed));
  else args.push('--init', spec.init.file);
  if (spec.dumpInit) args.push('--dump-init', spec.dumpInit);
  if (spec.data) args.push('--data', spec.data);
  return new Promise((resolve, reject) => {
    const py = spawn(process.env.GPUGRAD_PYTHON ?? '/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    py.stdout.on('data', (d) => { out += d; });
    py.on('error', reject);
    py.on('close', (code) => {
      if (code !== 0) return reject(new Error(`torch_dead_rate.py exited ${code}`));
      const r = JSON.parse(out);
      resolve({ dead: r.dead, nearDead: r.near_dead, seconds: r.seconds, note: r.data_max_diff ? `f1 max |Δx| ${r.data_max_diff.x}, max |Δy| ${r.data_max_diff.y}` : undefined });
    });
  });
}

// ---- statistics ---------------------------------------------------------------------------------------------------

/** Wilson's 95 % interval for k of n. */
function wilson(k: number, n: number): [number, number] {
  const z = 1.96, p = k / n, d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d, h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [c - h, c + h];
}

/** Φ(x) via erf (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7). */
function phi(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const e = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + e) / 2 : (1 - e) / 2;
}

/** Two-sided p of the pooled two-proportion z-test, k1 of n1 against k2 of n2. */
function twoProportionP(k1: number, n1: number, k2: number, n2: number): number {
  const p = (k1 + k2) / (n1 + n2), se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  return se === 0 ? 1 : 2 * (1 - phi(Math.abs(k1 / n1 - k2 / n2) / se));
}

/** Exact two-sided McNemar p from the discordant counts b and c (binomial(b + c, ½)). */
function mcnemarP(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  let tail = 0, term = 2 ** -n; // C(n, 0)/2ⁿ
  for (let k = 0; k <= Math.min(b, c); k++) { tail += term; term *= (n - k) / (k + 1); }
  return Math.min(1, 2 * tail);
}

const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(1)} %`;
const rate = (k: number, n: number) => { const [lo, hi] = wilson(k, n); return `${k}/${n} = ${pct(k, n)} [${Math.max(0, 100 * lo).toFixed(1)}, ${(100 * hi).toFixed(1)}]`; };
const pText = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(p < 0.01 ? 4 : 3));

/** Per-network agreement of two trainings of the same draws: both dead, only a, only b, both alive; McNemar's p. */
function agreement(n: number, a: number[], b: number[]): string {
  const A = new Set(a), B = new Set(b);
  const both = a.filter((m) => B.has(m)).length, onlyA = a.length - both, onlyB = b.length - both;
  return `${a.length} | ${b.length} | ${both} | ${onlyA} | ${onlyB} | ${pct(n - onlyA - onlyB, n)} | ${pText(mcnemarP(onlyA, onlyB))}`;
}

// ---- the measurements ---------------------------------------------------------------------------------------------

/** Our generator's first `P` numbers after seeding, for `N` trainings' seeds: KS per position, worst correlation. */
function checkDraws(N = 200_000, P = 12): string {
  const cols = Array.from({ length: P }, () => new Float64Array(N));
  for (let i = 0; i < N; i++) {
    const gen = new g.Generator(deriveSeed(i % 7, ['training', i, 'init']));
    for (let p = 0; p < P; p++) cols[p][i] = gen.random();
  }
  const ks = (c: Float64Array) => {
    const s = Float64Array.from(c).sort();
    let d = 0;
    s.forEach((v, i) => { d = Math.max(d, Math.abs(v - i / N), Math.abs(v - (i + 1) / N)); });
    return d * Math.sqrt(N);
  };
  const corr = (x: Float64Array, y: Float64Array) => {
    const mx = x.reduce((s, v) => s + v, 0) / N, my = y.reduce((s, v) => s + v, 0) / N;
    let sxy = 0, sxx = 0, syy = 0;
    for (let i = 0; i < N; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; syy += (y[i] - my) ** 2; }
    return sxy / Math.sqrt(sxx * syy);
  };
  let worst = 0;
  for (let p = 0; p < P; p++) for (let q = p + 1; q < P; q++) worst = Math.max(worst, Math.abs(corr(cols[p], cols[q])));
  return `Our generator's first ${P} numbers after seeding, ${N} trainings' seeds: Kolmogorov–Smirnov √n·D per position ` +
    `${cols.map((c) => ks(c).toFixed(2)).join(' ')} (5 % critical value 1.36); largest |correlation| between positions ` +
    `${worst.toFixed(4)} of ${(P * (P - 1)) / 2} pairs (one standard error: ${(1 / Math.sqrt(N)).toFixed(4)}).`;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.draws) { console.log(checkDraws()); return; }
  g.setDevice(a.device);
  // the initial values written for the identical-draw runs stay beside the JSON, so a resumed run reuses them
  const dir = a.json ? `${a.json}.files` : mkdtempSync(join(tmpdir(), 'dead-rate-'));
  mkdirSync(dir, { recursive: true });
  const load0 = loadavg()[0];
  const t0 = performance.now();
  // with --json, every batch's outcome is written as soon as it is known and a later call with the same options
  // reuses it: the measurements take many minutes on a shared machine, and can be added to (more --seeds)
  const results: Record<string, Outcome> = a.json && existsSync(a.json) ? JSON.parse(readFileSync(a.json, 'utf8')).results : {};
  // merged into what the file holds by then: two calls, one per --side, may share a file
  const save = () => {
    if (!a.json) return;
    const now = existsSync(a.json) ? JSON.parse(readFileSync(a.json, 'utf8')).results : {};
    writeFileSync(a.json, JSON.stringify({ args: { ...a, only: [...a.only] }, results: Object.assign(now, results) }, null, 1));
  };

  // every batch by key; the first seed's batches also write their initial values for the identical-draw runs
  type Batch = [string, Spec];
  const s0 = a.seeds[0];
  const torchInit = join(dir, `torch-init-${s0}.safetensors`), oursInit = join(dir, `ours-init-${s0}.safetensors`);
  const own = (side: Spec['side'], seed: number): Batch => [`${side}/${seed}`, { side, init: { seed }, dumpInit: seed === s0 ? (side === 'ours' ? oursInit : torchInit) : undefined }];
  const tFile = { file: torchInit }, oFile = { file: oursInit };
  const B = {
    oursT: ['ours/torch-init', { side: 'ours', init: tFile }] as Batch,
    torchO: ['torch/ours-init', { side: 'torch', init: oFile }] as Batch,
    oursT64: ['ours/torch-init/f64', { side: 'ours', init: tFile, dtype: 'float64' }] as Batch,
    torchT64: ['torch/torch-init/f64', { side: 'torch', init: tFile, dtype: 'float64' }] as Batch,
    keras: ['torch/torch-init/keras', { side: 'torch', init: tFile, adam: 'keras' }] as Batch,
    ourData: ['torch/torch-init/our-data', { side: 'torch', init: tFile, data: join(dir, 'f1.safetensors') }] as Batch,
  };
  const [ours0, torch0] = [own('ours', s0), own('torch', s0)];
  const comparisons: { only: string; label: string; a: Batch; b: Batch }[] = [
    { only: 'identical', label: `PyTorch's draws (seed ${s0}): ours vs PyTorch`, a: B.oursT, b: torch0 },
    { only: 'identical', label: `our draws (seed ${s0}): ours vs PyTorch`, a: ours0, b: B.torchO },
    { only: 'adam', label: `PyTorch's draws: PyTorch Adam vs ε TF/Keras-style`, a: torch0, b: B.keras },
    { only: 'data', label: `PyTorch's draws: PyTorch on its f1 vs on ours`, a: torch0, b: B.ourData },
    { only: 'float64', label: `PyTorch's draws: ours float32 vs ours float64`, a: B.oursT, b: B.oursT64 },
    { only: 'float64', label: `PyTorch's draws: PyTorch float32 vs PyTorch float64`, a: torch0, b: B.torchT64 },
    { only: 'float64', label: `PyTorch's draws: ours float64 vs PyTorch float64`, a: B.oursT64, b: B.torchT64 },
  ].filter((c) => a.only.has(c.only));
  // in order of what answers most: the first seed on both sides, the identical draws, more seeds, the rest
  const chance = a.only.has('chance') ? a.seeds.slice(1).flatMap((seed) => [own('ours', seed), own('torch', seed)]) : [];
  const wanted = [ours0, torch0, ...comparisons.slice(0, 2).flatMap((c) => [c.a, c.b]), ...chance, ...comparisons.slice(2).flatMap((c) => [c.a, c.b])];
  const order = [...new Map(wanted).entries()];

  if (!a.reportOnly) {
    if (a.only.has('data')) {
      const { x, y } = g.functionDataset('f1', { device: a.device });
      await g.save({ x, y }, B.ourData[1].data!);
      x.dispose(); y.dispose();
    }
    // two queues, one per side, run at the same time (PyTorch in its own process); a batch that trains from the other
    // side's draws waits for the batch that writes them
    const done = new Map<string, Promise<void>>();
    const producer = (spec: Spec) => ('file' in spec.init ? (spec.init.file === torchInit ? torch0[0] : ours0[0]) : null);
    const queue = async (side: Spec['side']) => {
      for (const [key, spec] of order.filter(([, sp]) => sp.side === side)) {
        let finish!: () => void;
        done.set(key, new Promise((r) => { finish = r; }));
        const from = producer(spec);
        if (from && !results[from]) await done.get(from);
        if (!results[key]) {
          results[key] = await (side === 'ours' ? ours(a, spec) : torch(a, spec));
          save();
          process.stderr.write(`${key}: ${results[key].dead[a.steps].length} dead of ${a.n} (${results[key].seconds.toFixed(0)} s)\n`);
        }
        finish();
      }
    };
    for (const [key] of order) if (!results[key]) done.set(key, new Promise(() => {}));
    await Promise.all(a.sides.map(queue));
  }
  console.log(report(a, results, comparisons.map((c) => ({ label: c.label, a: c.a[0], b: c.b[0] }))).join('\n'));
  const missing = order.filter(([k]) => !results[k]).map(([k]) => k);
  console.log(`\n${missing.length ? `Not measured yet: ${missing.join(', ')}. ` : ''}This call: ${((performance.now() - t0) / 1000).toFixed(0)} s; ` +
    `load average ${load0.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after, on ${availableParallelism()} cores.`);
  if (!a.json) rmSync(dir, { recursive: true, force: true });
}

/** The tables, from whatever batches have been measured (a row needs both its batches). */
function report(a: Args, results: Record<string, Outcome>, comparisons: { label: string; a: string; b: string }[]): string[] {
  const final = (o: Outcome) => o.dead[a.steps];
  const out: string[] = [`# Dead networks: ${a.n} deep MLPs per batch, ${a.steps} Adam steps (lr 1e-3, full batch of f1), ours on ${g.deviceInfo()}`, ''];
  const seeds = a.seeds.filter((s) => results[`ours/${s}`] && results[`torch/${s}`]);
  if (a.only.has('chance') && seeds.length) {
    out.push('## Chance: each side with its own draws', '', '| seed | ours: dead at init | ours: dead after | PyTorch: dead at init | PyTorch: dead after |', '|---:|---|---|---|---|');
    let oi = 0, oa = 0, ti = 0, ta = 0;
    for (const seed of seeds) {
      const o = results[`ours/${seed}`], t = results[`torch/${seed}`];
      oi += o.dead[0].length; oa += final(o).length; ti += t.dead[0].length; ta += final(t).length;
      out.push(`| ${seed} | ${rate(o.dead[0].length, a.n)} | ${rate(final(o).length, a.n)} | ${rate(t.dead[0].length, a.n)} | ${rate(final(t).length, a.n)} |`);
    }
    const N = a.n * seeds.length;
    out.push(`| all | ${rate(oi, N)} | ${rate(oa, N)} | ${rate(ti, N)} | ${rate(ta, N)} |`, '',
      `Rates with Wilson 95 % intervals. Pooled two-proportion test, ours vs PyTorch: at init p = ${pText(twoProportionP(oi, N, ti, N))}, after ${a.steps} steps p = ${pText(twoProportionP(oa, N, ta, N))}.`, '',
      'Dead networks by Adam step:', '', '| step | ' + seeds.map((s) => `ours ${s} | PyTorch ${s}`).join(' | ') + ' |', '|---:|' + seeds.map(() => '---:|---:').join('|') + '|');
    for (const step of Object.keys(results[`ours/${seeds[0]}`].dead)) {
      out.push(`| ${step} | ` + seeds.map((s) => `${results[`ours/${s}`].dead[step].length} | ${results[`torch/${s}`].dead[step].length}`).join(' | ') + ' |');
    }
    out.push('');
  }
  const rows = comparisons.filter((c) => results[c.a] && results[c.b])
    .map((c) => `| ${c.label} | ${agreement(a.n, final(results[c.a]), final(results[c.b]))} |${results[c.b].note ? ` ${results[c.b].note}` : ''}`);
  if (rows.length) {
    out.push('## One variable at a time: the same initial values, trained two ways (dead after the last step)', '',
      '| comparison (a vs b) | dead a | dead b | both | only a | only b | agree | McNemar p |', '|---|---:|---:|---:|---:|---:|---:|---:|', ...rows, '');
  }
  out.push(`Final loss ≥ 0.99·Var(f1) (dead or nearly): ${Object.entries(results).map(([k, o]) => `${k} ${o.nearDead.length}`).join(', ')}.`);
  return out;
}

await main();
