/**
 * `npm run bench [-- options]`: gpugrad's WebGPU kernels and training steps against TensorFlow.js's WebGPU backend on
 * the same adapter, the same GPUDevice, in the same process. For each kernel and shape: the median and spread of
 * several timed repetitions after warm-up, GFLOP/s or GB/s, and the ratio (TF.js time / gpugrad time: above 1 means
 * gpugrad is faster). The two outputs are compared before anything is timed. See harness.ts for how time is taken.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchCase, type Ctx, type Side, TIERS, type Tier, adamCase, elementwiseCases, matmulCases } from './cases.js';
import { Table, fmtRate, fmtRatio, fmtStats, fmtWork } from './format.js';
import { Probe, type RepPlan, type Stats, type Timing, geomean, timeInterleaved } from './harness.js';
import { loadTfjs, type TfjsHandle } from './tfjs.js';
import { type TrainingResult, runTraining, trainingTable } from './training.js';
import { visionCases } from './vision.js';

const HELP = `gpugrad benchmarks: kernels and training steps, gpugrad vs TensorFlow.js (WebGPU), same adapter, same process.

  npm run bench [-- options]

  --quick            a short run (the 'quick' cases, fewer repetitions)
  --full             every case, including the slow ones (2048² matmul, batch-1024 big layers, big convs)
  --only <regex>     run only the cases whose group or name matches (repeatable; e.g. --only matmul --only conv)
  --kernels-only     skip the training steps        --training-only   skip the kernels
  --no-tfjs          gpugrad alone
  --no-cpu-table     skip the last table: the wasm device vs PyTorch CPU, TF.js wasm and our cpu backend (bench/cpu.ts,
                     which also runs alone: node dist/bench/cpu.js --help)
  --reps <n>         exactly n timed repetitions per case (default: adaptive, 3 or more)
  --wall             time with wall clock (back-to-back runs, one submit, onSubmittedWorkDone) even if the adapter
                     has 'timestamp-query'
  --profile          after timing each training step, one more step with a pass per dispatch: GPU time by kernel
  --torch <file>     add PyTorch's training-step times (JSON from bench/torch_steps.py) to the training table
  --json             print one JSON document on stdout (the progress goes to stderr)
  --out <file>       also write the JSON document to a file
  --list             list the cases that would run, and exit

Environment: GPUGRAD_DAWN_FLAGS (Dawn toggles; the bench adds disable-dawn-features=timestamp_quantization).`;

interface Options {
  quick: boolean; full: boolean; json: boolean; out?: string; only: RegExp[]; tfjs: boolean;
  kernels: boolean; training: boolean; reps?: number; wall: boolean; torch?: string; list: boolean; profile: boolean;
  cpuTable: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, full: false, json: false, only: [], tfjs: true, kernels: true, training: true, wall: false, list: false, profile: false, cpuTable: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--full': o.full = true; break;
      case '--json': o.json = true; break;
      case '--out': o.out = value(); break;
      case '--only': o.only.push(new RegExp(value(), 'i')); break;
      case '--no-tfjs': o.tfjs = false; break;
      case '--no-cpu-table': o.cpuTable = false; break;
      case '--kernels-only': o.training = false; break;
      case '--training-only': o.kernels = false; break;
      case '--reps': o.reps = Math.max(1, Number(value())); break;
      case '--wall': o.wall = true; break;
      case '--torch': o.torch = value(); break;
      case '--list': o.list = true; break;
      case '--profile': o.profile = true; break;
      case '-h': case '--help': console.log(HELP); process.exit(0); break;
      default: throw new Error(`bench: unknown option ${a}\n\n${HELP}`);
    }
  }
  return o;
}

/** The Dawn flags: the user's, plus timestamp quantisation off (merged into their disable-dawn-features list). */
function dawnFlags(): string[] {
  const flags = (process.env.GPUGRAD_DAWN_FLAGS ?? '').split(' ').filter(Boolean);
  const i = flags.findIndex((f) => f.startsWith('disable-dawn-features='));
  if (i < 0) flags.push('disable-dawn-features=timestamp_quantization');
  else if (!flags[i].includes('timestamp_quantization')) flags[i] += ',timestamp_quantization';
  return flags;
}

function packageVersion(pkgJson: string): string {
  try { return (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version; } catch { return '?'; }
}

function versions(tf: TfjsHandle | null): Record<string, string> {
  const req = createRequire(import.meta.url);
  const here = dirname(fileURLToPath(import.meta.url));
  let webgpu = '?';
  try { webgpu = packageVersion(join(dirname(req.resolve('webgpu')), 'package.json')); } catch { /* not found */ }
  return {
    gpugrad: packageVersion(join(here, '..', '..', 'package.json')),
    webgpu: `${webgpu} (Dawn for Node)`,
    node: process.version,
    ...(tf ? { 'tfjs': tf.version, 'tfjs-backend-webgpu': tf.version } : {}),
  };
}

// ---- one kernel case ------------------------------------------------------------------------------------------------

interface SideResult { ms: Stats; wallMs: Stats; dispatches: number; submits: number; samples: number[] }
export interface CaseResult {
  group: string; name: string; tier: Tier; flops?: number; bytes?: number;
  gpugrad?: SideResult; tfjs?: SideResult;
  /** tfjs median / gpugrad median */
  ratio?: number;
  check?: { relErr: number; ok: boolean };
  skipped: string[];
}

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

function summary(t: Timing): SideResult {
  return { ms: t.ms, wallMs: t.wallMs, dispatches: t.dispatches, submits: t.submits, samples: t.samples.map((s) => s.ms) };
}

/** ‖a − b‖∞ / ‖b‖∞ (NaN anywhere gives Infinity). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) return Infinity;
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m > 0 ? d / m : d;
}

async function runCase(c: BenchCase, ctx: Ctx, probe: Probe, plan: RepPlan, log: (s: string) => void): Promise<CaseResult> {
  const res: CaseResult = { group: c.group, name: c.name, tier: c.tier, flops: c.flops, bytes: c.bytes, skipped: [] };
  const make = (who: string, f: (() => Side | string) | undefined): Side | null => {
    if (!f) return null;
    try {
      const s = f();
      if (typeof s === 'string') { res.skipped.push(`${who}: ${s}`); return null; }
      return s;
    } catch (e) { res.skipped.push(`${who}: ${msg(e)}`); return null; }
  };
  const sides: { who: 'gpugrad' | 'TF.js'; side: Side }[] = [];
  const g = make('gpugrad', () => c.gpugrad(ctx));
  if (g) sides.push({ who: 'gpugrad', side: g });
  const t = ctx.tf && c.tfjs ? make('TF.js', () => c.tfjs!({ ...ctx, tf: ctx.tf! })) : null;
  if (t) sides.push({ who: 'TF.js', side: t });
  const all = [...sides];
  try {
    // the check run: each side once, outputs compared; it also compiles the pipelines (the warm-up of slow ops)
    const outs: (ArrayLike<number> | null)[] = [];
    let slowest = 0;
    for (const { who, side } of [...sides]) {
      if (!side.output) { outs.push(null); continue; }
      const t0 = performance.now();
      try { outs.push(await side.output()); } catch (e) {
        res.skipped.push(`${who}: ${msg(e)}`);
        sides.splice(sides.findIndex((x) => x.side === side), 1);
        continue;
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    if (sides.length === 2 && outs[0] && outs[1]) {
      const e = relErr(outs[0], outs[1]);
      res.check = { relErr: e, ok: e <= (c.tol ?? 1e-4) };
    }
    const checked = outs.length > 0 && outs.every((o) => o !== null);
    const p = checked && slowest > 500 ? { ...plan, warmup: 0 } : plan;
    if (sides.length) {
      try {
        const timings = await timeInterleaved(probe, sides.map((x) => x.side.run), p);
        sides.forEach(({ who }, i) => { if (who === 'gpugrad') res.gpugrad = summary(timings[i]); else res.tfjs = summary(timings[i]); });
      } catch (e) { res.skipped.push(`timing: ${msg(e)}`); }
    }
  } finally {
    for (const { side } of all) { try { side.dispose(); } catch { /* already gone */ } }
  }
  if (res.gpugrad && res.tfjs) res.ratio = res.tfjs.ms.median / res.gpugrad.ms.median;
  for (const s of res.skipped) log(`  note: ${c.name}: ${s}`);
  return res;
}

function caseRow(r: CaseResult): string[] {
  const unit = r.flops ? 'GFLOP/s' : 'GB/s';
  const work = r.flops ?? r.bytes;
  const check = !r.check ? '–' : r.check.ok ? 'ok' : `MISMATCH ${r.check.relErr.toExponential(1)}`;
  return [
    r.name, fmtWork(r.flops, r.bytes),
    fmtStats(r.gpugrad?.ms), r.gpugrad ? `${fmtRate(work, r.gpugrad.ms.median)} ${unit}` : '–',
    fmtStats(r.tfjs?.ms), r.tfjs ? `${fmtRate(work, r.tfjs.ms.median)} ${unit}` : '–',
    fmtRatio(r.ratio), check,
  ];
}

// ---- main -----------------------------------------------------------------------------------------------------------

function selectTier(o: Options, realGpu: boolean): Tier {
  if (o.quick) return 'quick';
  if (realGpu) return 'gpu';
  return o.full ? 'full' : 'default';
}

function repPlan(o: Options, realGpu: boolean): RepPlan {
  if (o.reps) return { warmup: 1, minReps: o.reps, maxReps: o.reps, budgetS: 0 };
  if (realGpu) return { warmup: 3, minReps: 10, maxReps: 100, budgetS: o.quick ? 0.2 : 0.5 };
  // SwiftShader: TF.js runs some of these ops for seconds, so slow ops get fewer repetitions
  // --quick: the checked run is the only warm-up; two repetitions each, one for a run over a second
  if (o.quick) return { warmup: 0, minReps: 2, maxReps: 5, budgetS: 0.3, slowS: 1, slowReps: 1 };
  return o.full
    ? { warmup: 1, minReps: 5, maxReps: 30, budgetS: 4, slowS: 3, slowReps: 3 }
    : { warmup: 1, minReps: 3, maxReps: 15, budgetS: 2, slowS: 2, slowReps: 2 };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const loadAtStart = loadavg();
  const out = (s: string) => (o.json ? process.stderr : process.stdout).write(s + '\n');
  const flags = dawnFlags();
  process.env.GPUGRAD_DAWN_FLAGS = flags.join(' ');
  process.env.GPUGRAD_DEVICE ??= 'webgpu';
  const gg = await import('../src/index.js');
  const rt = gg.webgpuRuntime();
  if (!rt) throw new Error(`bench: no WebGPU adapter. ${gg.HOW_TO_GET_WEBGPU}`);
  const realGpu = !rt.isSwiftShader && rt.info.architecture !== 'swiftshader' && !/swiftshader|llvmpipe/i.test(rt.info.description);
  const probe = Probe.install(rt.device, !o.wall);
  probe.addFlusher(() => rt.flush());

  let tf: TfjsHandle | null = null;
  const notes: string[] = [];
  if (o.tfjs) {
    const r = await loadTfjs(rt.device, rt.adapter.info);
    if ('error' in r) notes.push(r.error); else { tf = r; probe.addFlusher(() => r.flush()); }
  }
  const ctx: Ctx = { gg, tf: tf?.tf ?? null };
  const tier = selectTier(o, realGpu);
  const plan = repPlan(o, realGpu);
  const info = rt.info;
  const vers = versions(tf);
  const timing = probe.mode === 'timestamp'
    ? 'GPU timestamp queries around every compute pass (timestamp-query; Dawn timestamp quantisation off)'
    : 'wall clock: back-to-back runs in one submit, then onSubmittedWorkDone (no timestamp-query, or --wall)';
  out(`gpugrad benchmarks — ${new Date().toISOString()}`);
  out(`adapter: vendor ${info.vendor || '?'}, architecture ${info.architecture || '?'}, device ${info.device || '?'}, description ${info.description || '?'}`);
  out(`versions: ${Object.entries(vers).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  out(`Dawn flags: ${flags.join(' ')}`);
  out(`timing: ${timing}`);
  out(`machine load (1/5/15 min): ${loadavg().map((x) => x.toFixed(2)).join(' / ')} on ${availableParallelism()} cores`);
  out(`cases: tier '${tier}'${o.only.length ? `, only ${o.only.join(' ')}` : ''}; repetitions ${plan.minReps}–${plan.maxReps}${plan.slowS ? ` (${plan.slowReps} when one run exceeds ${plan.slowS} s)` : ''}, interleaved gpugrad/TF.js, after a checked run and ${plan.warmup} warm-up, ~${plan.budgetS} s a case`);
  out('ratio = TF.js time / gpugrad time (above 1: gpugrad is faster); spread = ±half the range of the repetitions');
  for (const n of notes) out(`note: ${n}`);

  const maxTier = TIERS.indexOf(tier);
  const wanted = (c: { group: string; name: string; tier: Tier }) =>
    TIERS.indexOf(c.tier) <= maxTier && (o.only.length === 0 || o.only.some((r) => r.test(c.group) || r.test(c.name)));
  const cases = o.kernels
    ? [...matmulCases(), ...elementwiseCases(), adamCase(), ...visionCases()].filter(wanted)
    : [];
  if (o.list) {
    for (const c of cases) out(`${c.tier.padEnd(8)} ${c.group.padEnd(16)} ${c.name}`);
    gg.shutdown();
    return;
  }

  const torch = o.torch ? (JSON.parse(readFileSync(o.torch, 'utf8')) as { matmul?: Record<string, number> } & Record<string, unknown>) : undefined;
  const results: CaseResult[] = [];
  const table = new Table(['kernel', 'work', 'gpugrad', 'rate', 'TF.js', 'rate', 'ratio', 'check']);
  const t0 = performance.now();
  if (cases.length) out('');
  for (const [i, c] of cases.entries()) {
    const r = await runCase(c, ctx, probe, plan, out);
    results.push(r);
    const row = caseRow(r);
    table.add(row);
    out(`[${i + 1}/${cases.length}] ${r.name}: gpugrad ${row[2]}, TF.js ${row[4]}, ratio ${row[6]}, check ${row[7]}`);
    await rt.trim();
  }
  const both = results.filter((r) => r.ratio !== undefined);
  const groups = [...new Set(both.map((r) => r.group))];
  const byGroup = Object.fromEntries(groups.map((g) => [g, geomean(both.filter((r) => r.group === g).map((r) => r.ratio!))]));
  const overall = geomean(both.map((r) => r.ratio!));
  const slower = both.filter((r) => r.ratio! < 1).map((r) => `${r.name} (${fmtRatio(r.ratio)})`);
  const mismatches = results.filter((r) => r.check && !r.check.ok).map((r) => r.name);
  const caseNotes = [...new Set(cases.filter((c) => c.note && results.some((r) => r.name === c.name)).map((c) => c.note!))];
  if (results.length) {
    out('');
    out(table.render());
    out('');
    out(`geometric mean of the ratios over ${both.length} kernels: ${fmtRatio(overall)}`);
    out(`by group: ${groups.map((g) => `${g} ${fmtRatio(byGroup[g])}`).join(', ')}`);
    out(slower.length ? `slower than TF.js: ${slower.join(', ')}` : both.length ? 'no kernel is slower than TF.js' : '');
    if (mismatches.length) out(`OUTPUTS DISAGREE: ${mismatches.join(', ')}`);
    for (const n of caseNotes) out(`note: ${n}`);
    const big = results.find((r) => r.name === 'matmul 4096×4096×4096' && r.gpugrad);
    if (big) {
      const tflops = big.flops! / (big.gpugrad!.ms.median * 1e9);
      out(`matmul 4096²: gpugrad ${tflops.toFixed(2)} TFLOP/s = ${((100 * tflops) / 67).toFixed(1)} % of an H100 SXM's 67 TFLOP/s fp32` +
        (big.tfjs ? `; TF.js ${(big.flops! / (big.tfjs.ms.median * 1e9)).toFixed(2)} TFLOP/s` : '') +
        (torch?.matmul?.['4096'] ? `; PyTorch (cuBLAS, TF32 off) ${torch.matmul['4096'].toFixed(2)} TFLOP/s` : ''));
    }
    out(`kernels took ${((performance.now() - t0) / 1000).toFixed(0)} s; machine load now ${loadavg()[0].toFixed(2)}`);
  }

  let training: TrainingResult[] = [];
  if (o.training) {
    training = await runTraining({ ctx, probe, rt, quick: o.quick, full: o.full, profile: o.profile, realGpu, only: o.only, log: out });
    if (training.length) {
      out('');
      out(trainingTable(training, torch));
    }
  }

  const doc = {
    date: new Date().toISOString(),
    adapter: { ...info },
    versions: vers,
    dawnFlags: flags,
    load: { start: loadAtStart, end: loadavg() },
    timing: probe.mode,
    tier,
    plan,
    notes,
    kernels: results,
    summary: { geomean: overall, byGroup, slower, mismatches },
    training,
  };
  if (o.json) process.stdout.write(JSON.stringify(doc, null, 1) + '\n');
  if (o.out) writeFileSync(o.out, JSON.stringify(doc, null, 1));
  gg.shutdown();
  if (o.cpuTable && !o.list) {
    // its own process: it loads TF.js's wasm backend, which would replace the WebGPU one as TF.js's current backend
    out('');
    const r = spawnSync(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'cpu.js'), '--reps', o.quick ? '3' : '5',
      ...(o.tfjs ? [] : ['--no-tfjs'])], { stdio: ['ignore', o.json ? 'ignore' : 'inherit', 'inherit'] });
    if (r.status !== 0) out(`note: the CPU table failed (exit ${r.status})`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});

