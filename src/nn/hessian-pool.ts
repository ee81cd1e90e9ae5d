/**
 * Worker threads for float64 Hessian spectra (Node only): `HessianPool` spreads groups of small MLPs' Hessians
 * (hessian-spectrum.ts) over the machine's cores. One 571-parameter network's Hessian is 571 backward passes of one
 * thread's JavaScript on the CPU device, and a training family's networks are independent, so they parallelise by
 * whole groups. Each worker (hessian-worker.ts, beside this file in dist/ and in the package) loads the library with
 * the CPU device only.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { GpugradError, check } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { type HostParams, type Spectrum, hessianSpectra } from './hessian-spectrum.js';

/** What a worker is asked: one group's spectra. */
export interface HessianJob {
  id: number; sizes: number[]; params: HostParams[]; tauRel: number;
  x: Float64Array; xShape: number[]; y: Float64Array; yShape: number[];
}
export type HessianReply = { id: number; spectra: Spectrum[] } | { id: number; error: string };

export interface HessianPoolOptions {
  /** τ = tauRel·max|λ| separates positive, near-zero and negative eigenvalues */
  tauRel: number;
  /** worker threads: 0 (the default) = one per core (os.availableParallelism()), 1 = none (the calling thread) */
  workers?: number;
}

/**
 * The spectra of groups of MLPs of layer widths `sizes`, all on the same inputs x and targets y (float64 CPU tensors
 * for clean eigenvalues), computed in worker threads in parallel, or in the calling thread with `workers: 1`. Results
 * come back as promises, so callers can consume them in order while later groups are still being computed. A worker
 * that dies fails its own group only; `close()` ends the threads.
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

  private readonly sizes: number[];
  private readonly tauRel: number;

  constructor(sizes: readonly number[], private readonly x: Tensor, private readonly y: Tensor, { tauRel, workers = 0 }: HessianPoolOptions) {
    check(Number.isInteger(workers) && workers >= 0, 'HessianPool', `workers must be 0 (one per core) or a positive integer, got ${workers}`);
    this.sizes = [...sizes];
    this.tauRel = tauRel;
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
      if (this.closing) throw new GpugradError('HessianPool: spectra() after close(); make a new pool');
      return hessianSpectra(this.sizes, params, this.x, this.y, this.tauRel);
    }
    const id = this.nextId++;
    this.data ??= Promise.all([this.x.data(), this.y.data()]).then(([x, y]) => [Float64Array.from(x), Float64Array.from(y)]);
    const [x, y] = await this.data;
    const job: HessianJob = {
      id, sizes: this.sizes, params: params.map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Float64Array.from(v)]))),
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
    this.settle(r.id, 'error' in r ? { error: new GpugradError(`Hessian worker: ${r.error}`) } : r);
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
    const error = (m: string) => new GpugradError(`Hessian worker: ${m} (${why.message})`);
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
    for (const id of [...this.waiting.keys()]) this.settle(id, { error: new GpugradError('HessianPool: closed before this group was computed') });
  }
}
