/**
 * Training-step benchmarks: one step = forward, loss, backward, Adam update, for three of the seed's models, built
 * from one description for gpugrad (nn.Sequential, NCHW) and for TF.js (variables and tf ops, NHWC; optimizer.minimize
 * with tf.train.adam). bench/torch_steps.py builds the same three models in PyTorch.
 *
 * Reported per step: wall time with a wait for the GPU after every step (the headline), wall time per step over a
 * pipelined run of several steps with one wait at the end, GPU time (sum of compute-pass timestamps), and dispatches
 * and submits counted at the WebGPU API for both libraries alike.
 */
import type { Ctx } from './cases.js';
import { randomData, randomLabels } from './cases.js';
import { Table, fmtMs, fmtRatio, fmtStats } from './format.js';
import { type Probe, type Sample, type Stats, stats } from './harness.js';
import type { Tf } from './tfjs.js';

type Layer =
  | { kind: 'linear'; in: number; out: number }
  | { kind: 'conv'; in: number; out: number; k: number; pad: number }
  | { kind: 'relu' } | { kind: 'pool' } | { kind: 'flatten' };

export interface ModelSpec {
  key: string; title: string; batch: number;
  /** input shape without the batch: [features] or [C, H, W] */
  input: number[];
  loss: 'mse' | 'ce'; classes: number; lr: number;
  /** included on SwiftShader only with --full (always on a real GPU) */
  slow: boolean;
  layers: Layer[];
}

const lin = (i: number, o: number): Layer => ({ kind: 'linear', in: i, out: o });
const conv = (i: number, o: number, k: number, pad = 0): Layer => ({ kind: 'conv', in: i, out: o, k, pad });
const R: Layer = { kind: 'relu' }, P: Layer = { kind: 'pool' }, F: Layer = { kind: 'flatten' };

/** The models, as docs/protocol.md describes them (bench/torch_steps.py must match). */
export const MODELS: ModelSpec[] = [
  {
    key: 'mlp571', title: 'MLP 1-5-10-10-10-10-10-5-1 (571 params), full batch 500, MSE', batch: 500, input: [1],
    loss: 'mse', classes: 1, lr: 1e-3, slow: false,
    layers: [lin(1, 5), R, lin(5, 10), R, lin(10, 10), R, lin(10, 10), R, lin(10, 10), R, lin(10, 10), R, lin(10, 5), R, lin(5, 1)],
  },
  {
    key: 'cnnA', title: 'MNIST CNN-A (371 581 params), batch 64, cross-entropy', batch: 64, input: [1, 28, 28],
    loss: 'ce', classes: 10, lr: 1e-4, slow: false,
    layers: [conv(1, 10, 3), R, P, conv(10, 16, 3), R, P, F, lin(400, 512), R, lin(512, 256), R, lin(256, 125), R, lin(125, 10)],
  },
  {
    key: 'cnn2', title: 'CIFAR CNN-2 (2 299 258 params), batch 64, cross-entropy', batch: 64, input: [3, 32, 32],
    loss: 'ce', classes: 10, lr: 1e-4, slow: true,
    layers: [conv(3, 96, 3, 1), R, P, conv(96, 80, 3, 1), R, P, conv(80, 96, 3, 1), R, conv(96, 64, 3, 1), R, F, lin(4096, 512), R, lin(512, 10)],
  },
];

export function paramCount(m: ModelSpec): number {
  return m.layers.reduce((n, l) => n + (l.kind === 'linear' ? l.in * l.out + l.out : l.kind === 'conv' ? l.in * l.out * l.k * l.k + l.out : 0), 0);
}

export interface Step {
  step(): void; loss(): Promise<number>; dispose(): void;
  /** puts every dispatch in a pass of its own (for the per-kernel profile); returns the undo */
  isolate(): () => void;
}

// ---- gpugrad --------------------------------------------------------------------------------------------------------

export function ggModel({ gg }: Ctx, m: ModelSpec, X: Float32Array, Y: Float32Array | Int32Array): Step | string {
  const need = ['Sequential', 'Linear', 'ReLU', 'Adam', 'tidy', ...(m.loss === 'ce' ? ['Conv2d', 'MaxPool2d', 'Flatten', 'crossEntropy'] : [])];
  const absent = need.filter((n) => typeof (gg as unknown as Record<string, unknown>)[n] !== 'function');
  if (absent.length) return `gpugrad does not export ${absent.join(', ')} yet`;
  const layers = m.layers.map((l) => {
    switch (l.kind) {
      case 'linear': return new gg.Linear(l.in, l.out);
      case 'conv': return new gg.Conv2d(l.in, l.out, l.k, { padding: l.pad });
      case 'relu': return new gg.ReLU();
      case 'pool': return new gg.MaxPool2d(2);
      case 'flatten': return new gg.Flatten();
    }
  });
  const model = new gg.Sequential(...layers);
  const opt = new gg.Adam(model.parameters(), { lr: m.lr });
  const x = gg.tensor(X, { shape: [m.batch, ...m.input] });
  const y = m.loss === 'ce' ? gg.tensor(Y, { shape: [m.batch], dtype: 'int32' }) : gg.tensor(Y, { shape: [m.batch, 1] });
  const lossOf = () => {
    const out = model.forward(x);
    return m.loss === 'ce' ? gg.crossEntropy(out, y) : gg.F.mseLoss(out, y);
  };
  const step = () => gg.tidy(() => {
    opt.zeroGrad();
    const loss = lossOf();
    loss.backward();
    opt.step();
  });
  return {
    step,
    async loss() {
      const l = gg.noGrad(() => lossOf());
      const v = await l.item();
      l.dispose();
      return v;
    },
    dispose() { opt.zeroGrad(); opt.dispose(); model.dispose(); x.dispose(); y.dispose(); },
    isolate() {
      const rt = gg.webgpuRuntime()!;
      const dispatch = rt.dispatch;
      rt.dispatch = function (this: typeof rt, ...a: Parameters<typeof rt.dispatch>) { dispatch.apply(this, a); this.flush(); };
      return () => { rt.dispatch = dispatch; };
    },
  };
}

// ---- TF.js ----------------------------------------------------------------------------------------------------------

export function tfModel(tf: Tf, m: ModelSpec, X: Float32Array, Y: Float32Array | Int32Array): Step {
  type T = import('@tensorflow/tfjs').Tensor;
  const vars: import('@tensorflow/tfjs').Variable[] = [];
  const param = (shape: number[], fanIn: number) => {
    const b = 1 / Math.sqrt(fanIn);
    const v = tf.variable(tf.randomUniform(shape, -b, b));
    vars.push(v);
    return v;
  };
  // NHWC, TF.js's own layout: weights [kH, kW, in, out] and [in, out]
  const fwd: ((h: T) => T)[] = m.layers.map((l) => {
    switch (l.kind) {
      case 'linear': {
        const w = param([l.in, l.out], l.in), b = param([l.out], l.in);
        return (h: T) => tf.add(tf.matMul(h, w), b);
      }
      case 'conv': {
        const fan = l.in * l.k * l.k;
        const w = param([l.k, l.k, l.in, l.out], fan), b = param([l.out], fan);
        return (h: T) => tf.add(tf.conv2d(h as import('@tensorflow/tfjs').Tensor4D, w as import('@tensorflow/tfjs').Tensor4D, 1, l.pad), b);
      }
      case 'relu': return (h: T) => tf.relu(h);
      case 'pool': return (h: T) => tf.maxPool(h as import('@tensorflow/tfjs').Tensor4D, 2, 2, 'valid');
      case 'flatten': return (h: T) => tf.reshape(h, [h.shape[0], -1]);
    }
  });
  const [c, h, w] = m.input;
  const x = m.input.length === 3
    ? tf.tensor4d(X, [m.batch, c, h, w]).transpose([0, 2, 3, 1])
    : tf.tensor2d(X, [m.batch, m.input[0]]);
  const y = m.loss === 'ce' ? tf.oneHot(tf.tensor1d(Y as Int32Array, 'int32'), m.classes) : tf.tensor2d(Y, [m.batch, 1]);
  const opt = tf.train.adam(m.lr);
  const lossOf = () => {
    const out = fwd.reduce((a, f) => f(a), x as T);
    return (m.loss === 'ce' ? tf.losses.softmaxCrossEntropy(y, out) : tf.losses.meanSquaredError(y, out)) as import('@tensorflow/tfjs').Scalar;
  };
  return {
    step: () => { opt.minimize(lossOf, false, vars); },
    async loss() {
      const l = tf.tidy(lossOf);
      const v = (await l.data())[0];
      l.dispose();
      return v;
    },
    dispose() { opt.dispose(); vars.forEach((v) => v.dispose()); x.dispose(); y.dispose(); },
    isolate() {
      const before = tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE');
      tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 1);
      return () => tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', before);
    },
  };
}

// ---- measuring ------------------------------------------------------------------------------------------------------

export interface StepTiming {
  /** wall ms per step, waiting for the GPU after each step */
  ms: Stats;
  /** GPU ms per step (compute-pass timestamps), when timestamps are on */
  gpuMs?: Stats;
  /** wall ms per step over `pipelinedSteps` steps with one wait at the end */
  pipelinedMs: number;
  pipelinedSteps: number;
  dispatches: number;
  submits: number;
  /** the loss after the timed steps (a sanity check: finite, and near the other library's) */
  loss: number;
  /** with --profile: GPU ms per kernel (pipeline label) in one step, largest first */
  profile?: { kernel: string; ms: number; count: number }[];
}

export interface TrainingResult {
  model: string; title: string; params: number; batch: number;
  gpugrad?: StepTiming; tfjs?: StepTiming;
  /** TF.js ms/step over gpugrad ms/step (synced) */
  ratio?: number;
  skipped: string[];
}

interface Plan { warmup: number; minReps: number; maxReps: number; budgetS: number; pipelined: number; slowS: number; slowReps: number; profile?: boolean }

/**
 * Both libraries' steps, warmed up, then timed with their repetitions interleaved (see harness.ts for why). When a
 * warm-up step takes longer than `slowS` (TF.js's CNN steps on SwiftShader take many seconds), that run gets
 * `slowReps` repetitions and no pipelined measurement.
 */
async function timeSteps(probe: Probe, steps: Step[], plan: Plan): Promise<StepTiming[]> {
  await probe.sync();
  const first = steps.map(() => 0);
  for (let i = 0; i < plan.warmup; i++) {
    for (let j = 0; j < steps.length; j++) first[j] = (await probe.measure(() => steps[j].step())).wallMs;
  }
  const slow = first.map((ms) => ms / 1000 > plan.slowS);
  const need = slow.map((s) => (s ? plan.slowReps : plan.minReps));
  const samples: Sample[][] = steps.map(() => []);
  const t0 = performance.now();
  for (let rep = 0; rep < plan.maxReps; rep++) {
    const over = (performance.now() - t0) / 1000 >= plan.budgetS;
    if (over && samples.every((ss, j) => ss.length >= need[j])) break;
    for (let j = 0; j < steps.length; j++) {
      if (!(over && samples[j].length >= need[j])) samples[j].push(await probe.measure(() => steps[j].step()));
    }
  }
  const out: StepTiming[] = [];
  for (let j = 0; j < steps.length; j++) {
    const n = slow[j] ? 0 : plan.pipelined;
    const p0 = performance.now();
    for (let i = 0; i < n; i++) steps[j].step();
    await probe.sync();
    const ss = samples[j];
    out.push({
      ms: stats(ss.map((x) => x.wallMs)),
      gpuMs: probe.mode === 'timestamp' ? stats(ss.map((x) => x.ms)) : undefined,
      pipelinedMs: n ? (performance.now() - p0) / n : NaN,
      pipelinedSteps: n,
      dispatches: ss[0].dispatches,
      submits: ss[0].submits,
      loss: await steps[j].loss(),
    });
  }
  if (plan.profile && probe.mode === 'timestamp') {
    for (let j = 0; j < steps.length; j++) out[j].profile = await profileStep(probe, steps[j]);
  }
  return out;
}

/** One step with every dispatch in its own timed pass; GPU time summed by pipeline label. */
async function profileStep(probe: Probe, s: Step): Promise<{ kernel: string; ms: number; count: number }[]> {
  const undo = s.isolate();
  probe.recordPasses = true;
  try {
    const sample = await probe.measure(() => s.step());
    const by = new Map<string, { ms: number; count: number }>();
    for (const p of sample.passTimes ?? []) {
      const k = p.labels.join('+') || '(no pipeline)';
      const e = by.get(k) ?? { ms: 0, count: 0 };
      e.ms += p.ms; e.count++;
      by.set(k, e);
    }
    return [...by].map(([kernel, e]) => ({ kernel, ...e })).sort((a, b) => b.ms - a.ms);
  } finally {
    probe.recordPasses = false;
    undo();
  }
}

export interface TrainingOptions {
  ctx: Ctx; probe: Probe; rt: { trim(): Promise<void> };
  quick: boolean; realGpu: boolean; full?: boolean; profile?: boolean; only: RegExp[]; log: (s: string) => void;
}

export async function runTraining(o: TrainingOptions): Promise<TrainingResult[]> {
  const plan: Plan = o.realGpu
    ? { warmup: 5, minReps: 20, maxReps: 200, budgetS: 2, pipelined: 50, slowS: 1, slowReps: 5 }
    : o.quick
      ? { warmup: 1, minReps: 3, maxReps: 5, budgetS: 1, pipelined: 3, slowS: 1, slowReps: 1 }
      : { warmup: 1, minReps: 3, maxReps: 10, budgetS: 5, pipelined: 3, slowS: 2, slowReps: 2 };
  plan.profile = o.profile;
  // on SwiftShader a TF.js CNN step takes many seconds: --quick runs the MLP only, the default adds CNN-A, --full CNN-2
  const models = MODELS.filter((m) => (o.realGpu || (o.quick ? m.key === 'mlp571' : o.full || !m.slow)) && (o.only.length === 0 ||
    o.only.some((r) => r.test('training') || r.test(m.key) || r.test(m.title))));
  const results: TrainingResult[] = [];
  for (const m of models) {
    const n = m.batch * m.input.reduce((a, b) => a * b, 1);
    const X = m.loss === 'mse' ? Float32Array.from({ length: m.batch }, (_, i) => -5 + (10 * i) / (m.batch - 1)) : randomData(n, 41, 0, 1);
    const Y = m.loss === 'mse' ? X.map((v) => Math.sin(5 * Math.PI * v) / (5 * Math.PI * v)) : randomLabels(m.batch, m.classes, 42);
    const r: TrainingResult = { model: m.key, title: m.title, params: paramCount(m), batch: m.batch, skipped: [] };
    o.log(`training step: ${m.title} ...`);
    const built: { who: 'gpugrad' | 'TF.js'; step: Step }[] = [];
    const sides = o.ctx.tf ? (['gpugrad', 'TF.js'] as const) : (['gpugrad'] as const);
    for (const who of sides) {
      try {
        const s = who === 'gpugrad' ? ggModel(o.ctx, m, X, Y) : tfModel(o.ctx.tf!, m, X, Y);
        if (typeof s === 'string') r.skipped.push(`${who}: ${s}`); else built.push({ who, step: s });
      } catch (e) { r.skipped.push(`${who}: ${msg(e)}`); }
    }
    try {
      const timings = await timeSteps(o.probe, built.map((b) => b.step), plan);
      built.forEach(({ who }, i) => { if (who === 'gpugrad') r.gpugrad = timings[i]; else r.tfjs = timings[i]; });
    } catch (e) { r.skipped.push(`timing: ${msg(e)}`); }
    for (const { step } of built) { try { step.dispose(); } catch { /* ignore */ } }
    await o.rt.trim();
    if (r.gpugrad && r.tfjs) r.ratio = r.tfjs.ms.median / r.gpugrad.ms.median;
    for (const s of r.skipped) o.log(`  note: ${m.key}: ${s}`);
    results.push(r);
  }
  return results;
}

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** PyTorch's JSON (bench/torch_steps.py): { models: { key: { ms, pipelined_ms } }, device, torch, tf32 }. */
interface TorchDoc { models?: Record<string, { ms?: number; pipelined_ms?: number }>; device?: string; torch?: string; tf32?: boolean }

export function trainingTable(results: TrainingResult[], torchDoc?: Record<string, unknown>): string {
  const torch = torchDoc as TorchDoc | undefined;
  const head = ['model', 'gpugrad ms/step', 'pipelined', 'GPU', 'disp/sub', 'TF.js ms/step', 'pipelined', 'GPU', 'disp/sub', 'TF.js/gpugrad'];
  if (torch) head.push('PyTorch ms/step', 'pipelined', 'PyTorch/gpugrad');
  const t = new Table(head);
  const side = (s?: StepTiming) => s
    ? [fmtStats(s.ms), fmtMs(s.pipelinedMs), s.gpuMs ? fmtMs(s.gpuMs.median) : '–', `${s.dispatches}/${s.submits}`]
    : ['–', '–', '–', '–'];
  for (const r of results) {
    const row = [`${r.model} b${r.batch}`, ...side(r.gpugrad), ...side(r.tfjs), fmtRatio(r.ratio)];
    if (torch) {
      const p = torch.models?.[r.model];
      row.push(p?.ms ? fmtMs(p.ms) : '–', p?.pipelined_ms ? fmtMs(p.pipelined_ms) : '–',
        p?.ms && r.gpugrad ? fmtRatio(p.ms / r.gpugrad.ms.median) : '–');
    }
    t.add(row);
  }
  const lines = [t.render(), '',
    'ms/step: wall time, waiting for the GPU after every step (median, ±half range); pipelined: steps back to back, one wait;',
    'GPU: summed compute-pass timestamps; disp/sub: dispatches and submits per step, counted at the WebGPU API.',
    `losses after timing: ${results.map((r) => `${r.model} gpugrad ${r.gpugrad?.loss.toPrecision(4) ?? '–'} / TF.js ${r.tfjs?.loss.toPrecision(4) ?? '–'}`).join('; ')}`];
  for (const r of results) {
    for (const [who, t] of [['gpugrad', r.gpugrad], ['TF.js', r.tfjs]] as const) {
      if (!t?.profile) continue;
      const total = t.profile.reduce((a, p) => a + p.ms, 0);
      lines.push(`profile ${r.model} ${who} (one step, a pass per dispatch, ${fmtMs(total)} GPU): ` +
        t.profile.slice(0, 8).map((p) => `${p.kernel} ${fmtMs(p.ms)}${p.count > 1 ? ` (${p.count}×)` : ''}`).join(', '));
    }
  }
  if (torch) lines.push(`PyTorch: ${torch.torch ?? '?'} on ${torch.device ?? '?'}, TF32 ${torch.tf32 ? 'ON' : 'off'} (eager, same models, Adam)`);
  return lines.join('\n');
}
