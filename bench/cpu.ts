/**
 * The CPU table (issue 16): gpugrad's `wasm` device against PyTorch's CPU build (bench/torch_cpu.py, a server this
 * script drives), TensorFlow.js's WebAssembly backend and gpugrad's `cpu` backend, on the same cores, in one run:
 *
 *   npm run bench:cpu [-- --reps 7 --threads 1,2 --only matmul --no-torch --no-tfjs --no-cpu --json out.json]
 *   (also the last table of `npm run bench`)
 *
 * Cases: matmul 512², 1024², [64,400]×[400,512]; one CNN-A training step (batch 64, Adam); one Adam step of 100
 * batched 571-parameter MLPs (MLPEnsemble / baddbmm); the 571×571 float64 Hessian of one such MLP on 500 points.
 * Each repetition times every side once, sides in a rotating order, so load from other processes (the machine is
 * shared) falls on all of them alike; the table gives medians and the spread, and the machine's load before and after.
 * Thread counts: gpugrad and PyTorch run each case at every count of --threads (default 1 and every core); TF.js's
 * wasm backend runs one thread in Node (its threaded build needs a cross-origin-isolated browser page).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as g from '../src/index.js';
import type { WasmBackend } from '../src/kernels/wasm/backend.js';
import { getBackend, initWasm } from '../src/tensor/device.js';
import type { Tf } from './tfjs.js';
import { MODELS, ggModel, tfModel } from './training.js';

type Run = () => void | Promise<void>;
interface Case { key: string; title: string; flops?: number; inner: number; gg: (d: 'wasm' | 'cpu') => Run; tf?: (tf: Tf) => Run }
interface Side { name: string; threads: number; run: (c: Case) => Promise<number | null> }

const DEEP = [1, 5, 10, 10, 10, 10, 10, 5, 1];

function matmulCase(m: number, k: number, n: number, inner: number): Case {
  return {
    key: m === k && k === n ? `matmul${m}` : `matmul${m}x${k}x${n}`, title: `matmul [${m},${k}]×[${k},${n}] f32`,
    flops: 2 * m * k * n, inner,
    gg: (device) => {
      const a = g.randn([m, k], { device }), b = g.randn([k, n], { device });
      return () => { a.matmul(b).dispose(); };
    },
    tf: (tf) => {
      const a = tf.randomNormal([m, k]), b = tf.randomNormal([k, n]);
      return () => { tf.matMul(a, b).dispose(); };
    },
  };
}

const cnnSpec = MODELS.find((m) => m.key === 'cnnA')!;
const cnnData = () => ({
  X: Float32Array.from({ length: 64 * 784 }, (_, i) => Math.sin(i * 0.37)),
  Y: Int32Array.from({ length: 64 }, (_, i) => i % 10),
});

const CASES: Case[] = [
  matmulCase(512, 512, 512, 2),
  matmulCase(1024, 1024, 1024, 1),
  matmulCase(64, 400, 512, 10),
  {
    key: 'cnnA', title: 'CNN-A training step, batch 64 (Adam)', inner: 1,
    gg: (device) => {
      g.setDevice(device);
      const { X, Y } = cnnData();
      const s = ggModel({ gg: g, tf: null }, cnnSpec, X, Y);
      if (typeof s === 'string') throw new Error(s);
      return () => s.step();
    },
    tf: (tf) => { const { X, Y } = cnnData(); const s = tfModel(tf, cnnSpec, X, Y); return () => s.step(); },
  },
  {
    key: 'ensemble', title: 'Adam step of 100 batched 571-parameter MLPs (500 points)', inner: 1,
    gg: (device) => {
      const { x, y } = g.functionDataset('f1', { device });
      const ens = new g.MLPEnsemble(100, DEEP, { device, generators: Array.from({ length: 100 }, (_, i) => new g.Generator(i)) });
      const opt = new g.Adam(ens.parameters(), { lr: 1e-3 });
      return () => g.tidy(() => { opt.zeroGrad(); g.ensembleMSE(ens.forward(x), y).sum().backward(); opt.step(); });
    },
  },
  {
    key: 'hessian', title: '571×571 float64 Hessian of one MLP (500 points)', inner: 1,
    gg: (device) => {
      const { x, y } = g.functionDataset('f1', { device, dtype: 'float64' });
      const ens = new g.MLPEnsemble(1, DEEP, { device, dtype: 'float64', generators: [new g.Generator(0)] });
      return async () => {
        const H = g.ensembleHessian(() => g.ensembleMSE(ens.forward(x), y).sum(), ens.parameters());
        await H.data();
        H.dispose();
      };
    },
  },
];

// ---- the other libraries ------------------------------------------------------------------------------------------

/** PyTorch's server (bench/torch_cpu.py): one request per repetition. */
async function startTorch(): Promise<{ version: string; blas: string; time: (key: string, threads: number, inner: number) => Promise<number>; close(): void } | string> {
  const script = join(dirname(fileURLToPath(import.meta.url)), '../../bench/torch_cpu.py');
  const py = spawn(process.env.GPUGRAD_PYTHON ?? '/usr/bin/python3', [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const l = await lines.next();
    if (l.done) throw new Error('the PyTorch server stopped');
    return JSON.parse(l.value) as Record<string, unknown>;
  };
  try {
    const hello = await Promise.race([next(), new Promise<never>((_, no) => py.once('error', no))]);
    return {
      version: String(hello.torch), blas: String(hello.blas ?? 'not reported'),
      async time(key, threads, inner) {
        let ms = 0;
        for (let i = 0; i < inner; i++) { py.stdin.write(`${key} ${threads}\n`); ms += Number((await next()).ms); }
        return ms / inner;
      },
      close() { py.stdin.end('quit\n'); },
    };
  } catch (e) {
    py.kill();
    return `PyTorch could not start (${(e as Error).message}); install python3-torch or set GPUGRAD_PYTHON`;
  }
}

async function startTfjsWasm(): Promise<{ tf: Tf; version: string } | string> {
  try {
    const req = createRequire(import.meta.url);
    const warn = console.warn;
    console.warn = () => {};
    try {
      const tf = await import(req.resolve('@tensorflow/tfjs')) as Tf;
      await import(req.resolve('@tensorflow/tfjs-backend-wasm'));
      if (!(await tf.setBackend('wasm'))) return 'TF.js could not start its wasm backend';
      await tf.ready();
      return { tf, version: tf.version.tfjs };
    } finally {
      console.warn = warn;
    }
  } catch (e) {
    return `TF.js's wasm backend could not be loaded (${(e as Error).message}); install the dev dependencies`;
  }
}

// ---- the run ------------------------------------------------------------------------------------------------------

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function timeRun(run: Run, inner: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < inner; i++) await run();
  return (performance.now() - t0) / inner;
}

export async function cpuTable(argv: string[]): Promise<string> {
  const arg = (name: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  const reps = Number(arg('--reps') ?? 5);
  const only = arg('--only') ? new RegExp(arg('--only')!, 'i') : null;
  const cores = availableParallelism();
  const threads = (arg('--threads') ?? `1,${cores}`).split(',').map(Number).filter((t, i, a) => t >= 1 && a.indexOf(t) === i);
  const cases = CASES.filter((c) => !only || only.test(c.key));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const load0 = loadavg();

  await initWasm();
  const wasm = getBackend('wasm') as WasmBackend;
  const torch = argv.includes('--no-torch') ? 'skipped (--no-torch)' : await startTorch();
  const tfjs = argv.includes('--no-tfjs') ? 'skipped (--no-tfjs)' : await startTfjsWasm();
  const notes = [typeof torch === 'string' ? `PyTorch: ${torch}` : '', typeof tfjs === 'string' ? `TF.js: ${tfjs}` : ''].filter(Boolean);

  // set-up (untimed), one closure per case and side
  const sides: Side[] = [];
  const setups = new Map<string, Run>();
  const setup = (key: string, make: () => Run) => { if (!setups.has(key)) setups.set(key, make()); return setups.get(key)!; };
  // A side whose thread count changed since its last call gets one untimed call first (PyTorch's server does the
  // same): the first call after a change wakes the pool's threads, and on this 2-vCPU machine that cost PyTorch up to
  // 2-3× on its first call, which no training loop sees. The sides' repetitions rotate, so counts change nearly every call.
  let wasmThreads = -1;
  for (const t of threads) {
    sides.push({
      name: `gpugrad wasm, ${t} thread${t > 1 ? 's' : ''}`, threads: t,
      run: async (c) => {
        wasm.useThreads(t);
        const run = setup(`wasm:${c.key}`, () => c.gg('wasm'));
        if (wasmThreads !== t) { await run(); wasmThreads = t; }
        return timeRun(run, c.inner);
      },
    });
    if (typeof torch !== 'string') sides.push({ name: `PyTorch ${torch.version}, ${t} thread${t > 1 ? 's' : ''}`, threads: t, run: (c) => torch.time(c.key, t, c.inner) });
  }
  if (typeof tfjs !== 'string') {
    const failed = new Set<string>();
    sides.push({
      name: `TF.js ${tfjs.version} wasm, 1 thread`, threads: 1,
      run: async (c) => {
        if (!c.tf || failed.has(c.key)) return null;
        try {
          return await timeRun(setup(`tf:${c.key}`, () => c.tf!(tfjs.tf)), c.inner);
        } catch (e) { // a kernel TF.js's wasm backend lacks: say so under the table
          failed.add(c.key);
          notes.push(`TF.js wasm cannot run "${c.title}": ${(e as Error).message}`);
          return null;
        }
      },
    });
  }
  if (!argv.includes('--no-cpu')) sides.push({ name: 'gpugrad cpu (reference backend), 1 thread', threads: 1, run: async (c) => timeRun(setup(`cpu:${c.key}`, () => c.gg('cpu')), c.inner) });

  const times = new Map<string, number[]>();
  for (const c of cases) for (const s of sides) await s.run(c); // warm-up: JIT, pools, first-use set-up
  for (let r = 0; r < reps; r++) {
    for (const c of cases) {
      for (let i = 0; i < sides.length; i++) {
        const s = sides[(i + r) % sides.length];
        const ms = await s.run(c);
        if (ms !== null) { const k = `${c.key}|${s.name}`; times.set(k, [...(times.get(k) ?? []), ms]); }
      }
    }
    log(`cpu bench: repetition ${r + 1}/${reps} done (load ${loadavg()[0].toFixed(1)})`);
  }
  if (typeof torch !== 'string') torch.close();
  wasm.useThreads(cores);
  const load1 = loadavg();

  const out: string[] = [];
  out.push(`CPU: ${cores} cores, load average ${load0.map((l) => l.toFixed(1)).join(' ')} before, ${load1.map((l) => l.toFixed(1)).join(' ')} after ` +
    `(other processes share the cores); ${reps} interleaved repetitions, median (min–max) ms; ratio = PyTorch time / this side's time at the same thread count (> 1: faster than PyTorch)`);
  out.push(`gpugrad's device: ${wasm.describe()} (${process.version})`);
  if (typeof torch !== 'string') {
    out.push(`PyTorch's BLAS (its matmuls; threads pinned to each side's count): ${torch.blas}`);
    // Debian's torch calls whatever libblas.so.3 is: the reference BLAS is ~30× slower than OpenBLAS, not a fair rival
    if (!/openblas|mkl|blis/i.test(torch.blas)) {
      out.push('**Not a fair PyTorch:** its matmuls run on this BLAS, not an optimised one; `apt install libopenblas0-pthread` ' +
        '(Debian/Ubuntu: it becomes the libblas.so.3 alternative) and run again (bench/RESULTS.md, "A fair PyTorch")');
    }
  }
  for (const n of notes) out.push(n);
  const json: Record<string, Record<string, number[]>> = {};
  for (const c of cases) {
    out.push('', `| ${c.title} | ms | ${c.flops ? 'GFLOP/s | ' : ''}vs PyTorch |`, `|---|---:|${c.flops ? '---:|' : ''}---:|`);
    json[c.key] = {};
    for (const s of sides) {
      const ts = times.get(`${c.key}|${s.name}`);
      if (!ts) continue;
      json[c.key][s.name] = ts;
      const med = median(ts);
      const torchSide = sides.find((x) => x.name.startsWith('PyTorch') && x.threads === s.threads);
      const tt = torchSide && times.get(`${c.key}|${torchSide.name}`);
      const ratio = tt && !s.name.startsWith('PyTorch') ? `${(median(tt) / med).toFixed(2)}×` : '';
      const spread = `${med.toFixed(2)} (${Math.min(...ts).toFixed(2)}–${Math.max(...ts).toFixed(2)})`;
      out.push(`| ${s.name} | ${spread} | ${c.flops ? `${(c.flops / med / 1e6).toFixed(1)} | ` : ''}${ratio} |`);
    }
  }
  const file = arg('--json');
  if (file) writeFileSync(file, JSON.stringify({ cores, load: [load0, load1], reps, blas: typeof torch === 'string' ? null : torch.blas, times: json }, null, 1));
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--help')) {
    console.log('node dist/bench/cpu.js [--reps N] [--threads 1,2] [--only REGEX] [--no-torch] [--no-tfjs] [--no-cpu] [--json FILE]');
    process.exit(0);
  }
  console.log(await cpuTable(process.argv.slice(2)));
  g.shutdown();
  process.exit(0);
}
