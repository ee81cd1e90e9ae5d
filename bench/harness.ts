/**
 * How the benchmarks measure time, the same way for gpugrad and for TensorFlow.js.
 *
 * Both libraries record their dispatches into compute passes on ONE shared GPUDevice (see tfjs.ts). The probe wraps
 * three prototype methods of Dawn's classes, once per process:
 * - `GPUCommandEncoder.beginComputePass`: while a measurement is open, every pass begun gets `timestampWrites` (its
 *   start and end) in our query set. A repetition's GPU time is the sum of its passes' durations — kernel time only,
 *   not the JavaScript that recorded it nor the gaps between submits.
 * - `GPUComputePassEncoder.dispatchWorkgroups` and `GPUQueue.submit`: counters, so dispatches and submits per step
 *   are counted by one method for both libraries.
 *
 * Timestamps need the adapter feature 'timestamp-query' (the runtime asks for it) and are only exact when Dawn's
 * timestamp quantisation is off (`disable-dawn-features=timestamp_quantization`, which main.ts passes). Without the
 * feature the probe falls back to wall-clock time: `inner` runs back to back, one submit, `onSubmittedWorkDone`.
 */

export type TimingMode = 'timestamp' | 'wall';

/** Max queries per set (the WebGPU limit is 4096); two per pass. */
const QUERIES = 4096;

export interface Sample {
  /** ms per run: GPU pass time in timestamp mode, wall time divided by `inner` in wall mode */
  ms: number;
  /** ms of wall time for the whole repetition (record + submit + wait), divided by `inner` */
  wallMs: number;
  dispatches: number;
  submits: number;
  passes: number;
  /** with `recordPasses`: each timed pass's ms and the labels of the pipelines it ran */
  passTimes?: { ms: number; labels: string[] }[];
}

export class Probe {
  readonly mode: TimingMode;
  dispatches = 0;
  submits = 0;
  passes = 0;
  private querySet: GPUQuerySet | null = null;
  private resolveBuf: GPUBuffer | null = null;
  private readBuf: GPUBuffer | null = null;
  private open = false;
  private next = 0;
  private overflow = false;
  private flushers: (() => void)[] = [];
  /** record each timed pass's pipeline labels (for a per-kernel profile) */
  recordPasses = false;
  private passLabels: string[][] = [];

  private constructor(readonly device: GPUDevice, useTimestamps: boolean) {
    this.mode = useTimestamps && device.features.has('timestamp-query') ? 'timestamp' : 'wall';
    if (this.mode === 'timestamp') {
      this.querySet = device.createQuerySet({ type: 'timestamp', count: QUERIES, label: 'bench timestamps' });
      this.resolveBuf = device.createBuffer({ size: QUERIES * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      this.readBuf = device.createBuffer({ size: QUERIES * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
    this.patch();
  }

  private static instance: Probe | null = null;

  /** Installs the probe (once per process) on the device both libraries use. */
  static install(device: GPUDevice, useTimestamps = true): Probe {
    if (Probe.instance) {
      if (Probe.instance.device !== device) throw new Error('bench: the probe is already installed on another device');
      return Probe.instance;
    }
    return (Probe.instance = new Probe(device, useTimestamps));
  }

  /** A library's "submit what you have recorded" (gpugrad's runtime.flush, TF.js's submitQueue). */
  addFlusher(f: () => void): void { this.flushers.push(f); }

  private patch(): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const probe = this;
    const enc = GPUCommandEncoder.prototype;
    const begin = enc.beginComputePass;
    enc.beginComputePass = function (this: GPUCommandEncoder, desc?: GPUComputePassDescriptor) {
      probe.passes++;
      if (probe.open && probe.querySet && !desc?.timestampWrites) {
        if (probe.next + 2 > QUERIES) probe.overflow = true;
        else {
          desc = { ...desc, timestampWrites: { querySet: probe.querySet, beginningOfPassWriteIndex: probe.next, endOfPassWriteIndex: probe.next + 1 } };
          probe.next += 2;
          if (probe.recordPasses) probe.passLabels.push([]);
        }
      }
      return begin.call(this, desc);
    };
    const setPipeline = GPUComputePassEncoder.prototype.setPipeline;
    GPUComputePassEncoder.prototype.setPipeline = function (this: GPUComputePassEncoder, p: GPUComputePipeline) {
      if (probe.open && probe.recordPasses) probe.passLabels[probe.passLabels.length - 1]?.push(p.label || '?');
      return setPipeline.call(this, p);
    };
    const pass = GPUComputePassEncoder.prototype;
    const dispatch = pass.dispatchWorkgroups;
    pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, x: number, y?: number, z?: number) {
      probe.dispatches++;
      return dispatch.call(this, x, y, z);
    };
    const queue = GPUQueue.prototype;
    const submit = queue.submit;
    queue.submit = function (this: GPUQueue, buffers: Iterable<GPUCommandBuffer>) {
      probe.submits++;
      return submit.call(this, buffers);
    };
  }

  flushAll(): void { for (const f of this.flushers) f(); }

  /** Waits for the GPU (after submitting what both libraries have recorded). */
  async sync(): Promise<void> {
    this.flushAll();
    await this.device.queue.onSubmittedWorkDone();
  }

  /**
   * One repetition: `inner` calls of `run` (which records work and releases its outputs), then submit and wait.
   * Returns per-run times. The caller makes sure nothing else is in flight (call sync() first).
   */
  async measure(run: () => void, inner = 1): Promise<Sample> {
    const d0 = this.dispatches, s0 = this.submits, p0 = this.passes;
    this.open = this.mode === 'timestamp';
    this.next = 0;
    this.overflow = false;
    this.passLabels = [];
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) run();
    this.flushAll();
    this.open = false;
    await this.device.queue.onSubmittedWorkDone();
    const wallMs = (performance.now() - t0) / inner;
    const sample: Sample = {
      ms: wallMs, wallMs, dispatches: (this.dispatches - d0) / inner, submits: (this.submits - s0) / inner, passes: (this.passes - p0) / inner,
    };
    if (this.mode === 'timestamp') {
      if (this.overflow) throw new Error(`bench: more than ${QUERIES / 2} compute passes in one repetition; lower 'inner'`);
      const times = await this.readPassTimes(this.next);
      sample.ms = times.reduce((a, b) => a + b, 0) / inner;
      if (this.recordPasses) sample.passTimes = times.map((ms, i) => ({ ms, labels: this.passLabels[i] ?? [] }));
    }
    return sample;
  }

  /** (end - start) of each of the first `count / 2` passes, in ms. */
  private async readPassTimes(count: number): Promise<number[]> {
    if (count === 0) return [];
    const enc = this.device.createCommandEncoder();
    enc.resolveQuerySet(this.querySet!, 0, count, this.resolveBuf!, 0);
    enc.copyBufferToBuffer(this.resolveBuf!, 0, this.readBuf!, 0, count * 8);
    this.device.queue.submit([enc.finish()]);
    this.submits--; // ours, not the library's
    await this.readBuf!.mapAsync(GPUMapMode.READ, 0, count * 8);
    const t = new BigUint64Array(this.readBuf!.getMappedRange(0, count * 8));
    const ms: number[] = [];
    // a pass whose end precedes its start (a driver that resets the counter) counts as zero, not as garbage
    for (let i = 0; i < count; i += 2) ms.push(t[i + 1] > t[i] ? Number(t[i + 1] - t[i]) / 1e6 : 0);
    this.readBuf!.unmap();
    return ms;
  }
}

export interface Stats {
  median: number; min: number; max: number; n: number;
  /** (max - min) / median: the full range of the repetitions, relative */
  range: number;
}

export function stats(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0], max: s[n - 1], n, range: median > 0 ? (s[n - 1] - s[0]) / median : 0 };
}

export function geomean(xs: readonly number[]): number {
  const v = xs.filter((x) => x > 0 && Number.isFinite(x));
  return v.length ? Math.exp(v.reduce((a, x) => a + Math.log(x), 0) / v.length) : NaN;
}

/** How many repetitions and warm-ups to run; repetitions adapt to the time one takes. */
export interface RepPlan {
  warmup: number;
  minReps: number;
  maxReps: number;
  /** target seconds of timed repetitions per case (all sides together) */
  budgetS: number;
  /** a side whose one run takes longer than this many seconds gets `slowReps` repetitions */
  slowS?: number;
  slowReps?: number;
}

export interface Timing {
  samples: Sample[];
  ms: Stats;
  wallMs: Stats;
  dispatches: number;
  submits: number;
}

/**
 * Times several sides of one comparison (gpugrad, TF.js) with their repetitions interleaved — A B A B … — so that both
 * see the same machine: on a shared 2-core machine the load drifts by tens of percent within a minute. Warm-up runs
 * first (pipeline compiles), then repetitions until every side has `minReps` and the budget is spent (or `maxReps`).
 * A side whose single run takes longer than `slowS` gets `slowReps` repetitions instead of `minReps`.
 * In wall mode each repetition runs a side back to back enough times to last about 20 ms, so that submit-and-wait
 * overhead does not dominate.
 */
export async function timeInterleaved(probe: Probe, runs: (() => void)[], plan: RepPlan): Promise<Timing[]> {
  await probe.sync();
  const first = runs.map(() => 0);
  for (let i = 0; i < plan.warmup; i++) {
    for (let j = 0; j < runs.length; j++) first[j] = (await probe.measure(runs[j])).wallMs;
  }
  const inner = runs.map((_, j) => (probe.mode === 'wall' && plan.warmup > 0 ? Math.max(1, Math.min(1000, Math.round(20 / Math.max(first[j], 1e-3)))) : 1));
  const samples: Sample[][] = runs.map(() => []);
  const need = runs.map(() => plan.minReps);
  const t0 = performance.now();
  for (let rep = 0; rep < plan.maxReps; rep++) {
    for (let j = 0; j < runs.length; j++) {
      if (rep >= need[j] && (performance.now() - t0) / 1000 >= plan.budgetS) continue;
      const s = await probe.measure(runs[j], inner[j]);
      samples[j].push(s);
      if (rep === 0 && plan.slowS !== undefined && s.wallMs / 1000 > plan.slowS) need[j] = Math.max(1, Math.min(need[j], plan.slowReps ?? 2));
    }
    const spent = (performance.now() - t0) / 1000;
    if (samples.every((x, j) => x.length >= need[j]) && spent >= plan.budgetS) break;
    // stop early when another round would overshoot the budget by half
    if (samples.every((x, j) => x.length >= need[j]) && spent * (rep + 2) / (rep + 1) > plan.budgetS * 1.5) break;
  }
  return samples.map((ss) => ({
    samples: ss,
    ms: stats(ss.map((s) => s.ms)),
    wallMs: stats(ss.map((s) => s.wallMs)),
    dispatches: ss[0].dispatches,
    submits: ss[0].submits,
  }));
}
