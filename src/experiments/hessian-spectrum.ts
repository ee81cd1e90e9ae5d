/**
 * minimal-ratio's phase 3: the full Hessian of the deep 571-parameter model's MSE on f1, in float64 on the CPU (clean
 * small eigenvalues), and its eigenvalue counts against τ = tauRel·max|λ|. Pure CPU work, so it runs the same in the
 * main thread and in worker threads: `HessianPool` spreads the networks' Hessians over the machine's cores (one
 * network's Hessian is 571 backward passes of one thread's JavaScript; a training family's 100 are independent).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import * as g from '../index.js';
import { FUNCTION_MODELS, mlp } from './models.js';

const WIDTHS = FUNCTION_MODELS.deep;

/** Host values of one network's parameters, by the Sequential's state-dict keys. */
export type HostParams = Record<string, ArrayLike<number>>;

export interface Spectrum {
  taskRatio: number; nPositive: number; nNearZero: number; nNegative: number; lambdaMax: number; lambdaMin: number; tau: number;
}

/** Eigenvalues of a symmetric n×n matrix given row-major (symmetrised against rounding). */
export function symmetricEigenvalues(d: ArrayLike<number>, n: number, round32 = false): number[] {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = 0.5 * (d[i * n + j] + d[j * n + i]);
      m.set(i, j, round32 ? Math.fround(v) : v);
    }
  }
  return new EigenvalueDecomposition(m, { assumeSymmetric: true }).realEigenvalues;
}

/** Eigenvalue counts of an n×n Hessian (row-major) against τ = tauRel·max|λ|. */
export function spectrumOf(h: ArrayLike<number>, n: number, tauRel: number): Spectrum {
  const lambda = symmetricEigenvalues(h, n);
  const maxAbs = Math.max(...lambda.map(Math.abs));
  const tau = tauRel * maxAbs;
  const nPos = lambda.filter((l) => l > tau).length;
  const nNeg = lambda.filter((l) => l < -tau).length;
  return { taskRatio: nPos / n, nPositive: nPos, nNearZero: n - nPos - nNeg, nNegative: nNeg, lambdaMax: Math.max(...lambda), lambdaMin: Math.min(...lambda), tau };
}

/**
 * The Hessians' spectra of one or more networks (inputs x, targets y: float64 CPU tensors). One network: g.hessian
 * (no stacking and slicing to pay); several: one MLPEnsemble of them and `ensembleHessian` (571 backward passes over
 * all of them together instead of 571 per network).
 */
export async function hessianSpectra(params: readonly HostParams[], x: g.Tensor, y: g.Tensor, tauRel: number): Promise<Spectrum[]> {
  const k = params.length;
  if (k === 1) {
    const copy = loadHost(mlp(WIDTHS, new g.Generator(0), { device: 'cpu', dtype: 'float64' }), params);
    const H = g.hessian(() => g.F.mseLoss(copy.forward(x), y), copy.parameters());
    const spectrum = spectrumOf(await H.data(), H.shape[0], tauRel);
    H.dispose();
    copy.dispose();
    return [spectrum];
  }
  const ens = loadHost(new g.MLPEnsemble(k, WIDTHS, { device: 'cpu', dtype: 'float64', generators: params.map(() => new g.Generator(0)) }), params);
  const H = g.ensembleHessian(() => g.ensembleMSE(ens.forward(x), y).sum(), ens.parameters());
  const n = H.shape[1];
  const all = await H.data();
  H.dispose();
  ens.dispose();
  return params.map((_, i) => spectrumOf(all.subarray(i * n * n, (i + 1) * n * n), n, tauRel));
}

/**
 * `model` (one network, or an ensemble of params.length stacked along the first dimension) with the host values
 * loaded; the state tensors are released, and so is the model when a network's values do not fit it.
 */
function loadHost<M extends g.Module>(model: M, params: readonly HostParams[]): M {
  const k = params.length;
  const state: Record<string, g.Tensor> = {};
  try {
    for (const [key, t] of model.namedParameters()) {
      const len = t.size / k;
      const values = new Float64Array(t.size);
      params.forEach((p, i) => {
        const v = p[key];
        if (!v || v.length !== len) {
          throw new g.GpugradError(`hessianSpectra: network ${i} gives ${v ? `${v.length} values` : 'no values'} for '${key}', the deep model needs ${len}`);
        }
        values.set(v, i * len);
      });
      state[key] = g.tensor(values, { shape: [...t.shape], device: 'cpu', dtype: 'float64' });
    }
    model.loadStateDict(state);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    for (const t of Object.values(state)) t.dispose();
  }
  return model;
}

/** What a worker is asked: one group's spectra. */
export interface HessianJob {
  id: number; params: HostParams[]; tauRel: number;
  x: Float64Array; xShape: number[]; y: Float64Array; yShape: number[];
}
export type HessianReply = { id: number; spectra: Spectrum[] } | { id: number; error: string };

/**
 * Worker threads that compute groups of Hessian spectra in parallel (each worker loads the library with the CPU
 * device only). `workers` ≤ 1 computes in the calling thread instead. Results come back as promises, so callers can
 * consume them in order while later groups are still being computed.
 */
export class HessianPool {
  private readonly pool: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: HessianJob[] = [];
  /** the job each busy worker is computing */
  private readonly busy = new Map<Worker, number>();
  private readonly waiting = new Map<number, { resolve: (s: Spectrum[]) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private data: Promise<[Float64Array, Float64Array]> | null = null;
  private closing = false;

  /** `workers`: 0 = one per core (os.availableParallelism()), 1 = none (the calling thread). */
  constructor(workers: number, private readonly x: g.Tensor, private readonly y: g.Tensor, private readonly tauRel: number) {
    const n = workers === 0 ? availableParallelism() : workers;
    if (n <= 1) return;
    const env = { ...process.env, GPUGRAD_DEVICE: 'cpu', GPUGRAD_QUIET: '1' };
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL('./hessian-worker.js', import.meta.url), { env });
      let crash: Error | null = null;
      w.on('message', (r: HessianReply) => this.done(w, r));
      w.on('error', (e: Error) => { crash = e; });
      w.on('exit', (code) => this.lost(w, crash ?? new Error(`exited with code ${code}`)));
      w.unref();
      this.pool.push(w);
      this.idle.push(w);
    }
  }

  get workers(): number { return this.pool.length; }

  /** The spectra of one group of networks (several: through ensembleHessian, as `hessianSpectra`). */
  async spectra(params: HostParams[]): Promise<Spectrum[]> {
    if (!this.pool.length) {
      if (this.closing) throw new Error('HessianPool: spectra() after close()');
      return hessianSpectra(params, this.x, this.y, this.tauRel);
    }
    const id = this.nextId++;
    this.data ??= Promise.all([this.x.data(), this.y.data()]).then(([x, y]) => [Float64Array.from(x), Float64Array.from(y)]);
    const [x, y] = await this.data;
    const job: HessianJob = {
      id, params: params.map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Float64Array.from(v)]))),
      tauRel: this.tauRel, x, xShape: [...this.x.shape], y, yShape: [...this.y.shape],
    };
    const out = new Promise<Spectrum[]>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.queue.push(job);
    this.pump();
    return out;
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.busy.set(w, job.id);
      w.ref(); // keep the process alive while a job is out
      w.postMessage(job);
    }
  }

  private settle(id: number, r: { spectra: Spectrum[] } | { error: Error }): void {
    const p = this.waiting.get(id);
    this.waiting.delete(id);
    if ('error' in r) p?.reject(r.error);
    else p?.resolve(r.spectra);
  }

  private done(w: Worker, r: HessianReply): void {
    this.busy.delete(w);
    w.unref();
    this.idle.push(w);
    this.settle(r.id, 'error' in r ? { error: new Error(`Hessian worker: ${r.error}`) } : r);
    this.pump();
  }

  /** A worker died (not through close()): its job fails; with no worker left, so does every queued one. */
  private lost(w: Worker, why: Error): void {
    if (this.closing) return;
    const at = this.pool.indexOf(w);
    if (at >= 0) this.pool.splice(at, 1);
    const idle = this.idle.indexOf(w);
    if (idle >= 0) this.idle.splice(idle, 1);
    const id = this.busy.get(w);
    this.busy.delete(w);
    const error = (m: string) => new Error(`Hessian worker: ${m} (${why.message})`);
    if (id !== undefined) this.settle(id, { error: error('a worker thread died while computing this group') });
    if (!this.pool.length) {
      for (const job of this.queue.splice(0)) this.settle(job.id, { error: error('every worker thread died') });
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.pool.map((w) => w.terminate()));
    this.pool.length = 0;
    this.idle.length = 0;
    for (const id of [...this.waiting.keys()]) this.settle(id, { error: new Error('HessianPool closed before this group was computed') });
  }
}
