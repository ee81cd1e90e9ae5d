/**
 * The playground's benchmark tab, without the page: times matmul, conv2d and one training step of homework 1-2's
 * MNIST CNN-A on whatever device the page has, and reports GFLOP/s, so a reader measures their own GPU.
 *
 * Wall-clock time per run (record, submit, wait), after a warm-up run that compiles the pipelines. Each case grows
 * its size while one run stays short, so a phone and a data-centre GPU both get a number in a few seconds. The
 * kernel-only timings (timestamp queries, beside TensorFlow.js) are bench/'s business; this is what a user waits for.
 */
import * as gg from '../index.js';
import type { DeviceName } from '../index.js';
import { cnnA } from '../experiments/models.js';

export interface BenchResult {
  case: 'matmul' | 'conv2d' | 'training step';
  /** the size, in words: "512×512 · 512×512" */
  size: string;
  /** floating-point operations of one run */
  flops: number;
  /** milliseconds per run (median of the timed runs) */
  ms: number;
  gflops: number;
  runs: number;
}

export interface BenchOptions {
  device?: DeviceName;
  /** stop growing a case once one run takes longer than this (ms); default 250 */
  budgetMs?: number;
  /** time spent on each size, at most (ms); default 600 */
  timeMs?: number;
}

interface Case {
  name: BenchResult['case'];
  sizes: number[];
  /** builds the inputs for a size; returns one run (synchronous recording) and what to dispose */
  setup(n: number, device: DeviceName): { size: string; flops: number; run(): void; dispose(): void };
}

const now = () => performance.now();

const CASES: Case[] = [
  {
    name: 'matmul', sizes: [128, 256, 512, 1024, 2048],
    setup(n, device) {
      const a = gg.randn([n, n], { device }), b = gg.randn([n, n], { device });
      return { size: `${n}×${n} · ${n}×${n}`, flops: 2 * n ** 3, run: () => gg.tidy(() => { a.matmul(b); }), dispose: () => { a.dispose(); b.dispose(); } };
    },
  },
  {
    name: 'conv2d', sizes: [1, 4, 16, 64],
    setup(batch, device) {
      // a ResNet-like 3×3 layer: 32 → 64 channels on 32×32 images, padding 1
      const x = gg.randn([batch, 32, 32, 32], { device }), w = gg.randn([64, 32, 3, 3], { device });
      return {
        size: `${batch}×32×32×32 ∗ 64×32×3×3`, flops: 2 * batch * 64 * 32 * 32 * 32 * 9,
        run: () => gg.tidy(() => { gg.conv2d(x, w, null, { padding: 1 }); }), dispose: () => { x.dispose(); w.dispose(); },
      };
    },
  },
  {
    name: 'training step', sizes: [8, 32, 128],
    setup(batch, device) {
      const net = cnnA(new gg.Generator(1));
      if (device !== gg.getDevice()) throw new gg.GpugradError(`bench: the training step runs on the default device (${gg.getDevice()}); setDevice('${device}') first`);
      const opt = new gg.Adam(net.parameters(), { lr: 1e-3 });
      const x = gg.randn([batch, 1, 28, 28]);
      const y = gg.tensor(Array.from({ length: batch }, (_, i) => i % 10), { dtype: 'int32' });
      return {
        // CNN-A's forward pass is 1.21 MFLOP per image; backward costs about twice that (the gradients of the
        // weights and of the inputs), so a step is counted as 3× the forward pass
        size: `MNIST CNN-A, batch ${batch}, Adam`, flops: 3 * batch * CNN_A_FORWARD_FLOPS,
        run: () => gg.tidy(() => {
          opt.zeroGrad();
          gg.F.crossEntropy(net.forward(x), y).backward();
          opt.step();
        }),
        dispose: () => { opt.zeroGrad(); opt.dispose(); net.dispose(); x.dispose(); y.dispose(); },
      };
    },
  },
];

/** conv 1→10 (3×3, 26²) + conv 10→16 (3×3, 11²) + the four linear layers, 2 FLOPs per multiply-add */
const CNN_A_FORWARD_FLOPS = 2 * (26 * 26 * 10 * 9 + 11 * 11 * 16 * 90 + 400 * 512 + 512 * 256 + 256 * 125 + 125 * 10);

/** Runs every case, calling `onResult` as each size is measured; resolves with them all. */
export async function runBenchmarks(onResult: (r: BenchResult) => void = () => {}, o: BenchOptions = {}): Promise<BenchResult[]> {
  const device = o.device ?? gg.getDevice();
  const budget = o.budgetMs ?? 250, timeMs = o.timeMs ?? 600;
  const results: BenchResult[] = [];
  for (const c of CASES) {
    for (const n of c.sizes) {
      const s = c.setup(n, device);
      try {
        s.run(); // warm-up: compiles the pipelines and fills the buffer pool
        await gg.sync();
        const times: number[] = [];
        const start = now();
        while (times.length < 3 || (now() - start < timeMs && times.length < 50)) {
          const t0 = now();
          s.run();
          await gg.sync();
          times.push(now() - t0);
          if (times[0] > budget * 4) break; // one slow run is enough to know the size is too big to repeat
        }
        times.sort((a, b) => a - b);
        const ms = times[Math.floor(times.length / 2)];
        const r: BenchResult = { case: c.name, size: s.size, flops: s.flops, ms, gflops: s.flops / ms / 1e6, runs: times.length };
        results.push(r);
        onResult(r);
        if (ms > budget) break;
      } finally {
        s.dispose();
      }
    }
  }
  return results;
}
